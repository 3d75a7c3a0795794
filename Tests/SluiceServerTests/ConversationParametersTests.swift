import Foundation
import SluiceCore
import SluiceTestSupport
import Testing

/// A conversation's own sampling settings (`parameters`, Open WebUI's "Advanced Params"): kept with it on both
/// databases, sent with each of its web turns unless the turn says otherwise, never with a gateway call, and carried
/// into a branch and through an export and import.
@Suite("Conversation parameters")
struct ConversationParametersTests {
    static let settings = #"{"temperature":0.3,"top_p":0.9,"seed":42,"stop":["END"],"max_tokens":300,"frequency_penalty":0.5,"presence_penalty":-0.5}"#
    /// What the simulator's `sampling` scenario answers for `settings`.
    static let sent = [
        "temperature: 0.3", "top_p: 0.9", "seed: 42", "stop: [\"END\"]", "frequency_penalty: 0.5", "presence_penalty: -0.5",
        "max_tokens: 300",
    ]

    static func lines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }

    @Test("kept with the conversation: set when it is made or changed, shown when it is read, checked field by field, removed with null",
          arguments: TestDatabases.backends)
    func kept(database: StoreBackend) async throws {
        try await Harness.run(database: database) { h in
            let id = try await h.newConversation(h.alice, body: #"{"parameters":{"temperature":1.2}}"#)
            var read = try await h.request(.GET, "/api/conversations/\(id)", token: h.alice)
            #expect((read.json?["parameters"] as? [String: Any])?["temperature"] as? Double == 1.2)

            let changed = try await h.request(.PATCH, "/api/conversations/\(id)", token: h.alice, body: #"{"parameters":\#(Self.settings)}"#)
            #expect(changed.status == 200)
            read = try await h.request(.GET, "/api/conversations/\(id)", token: h.alice)
            let parameters = try #require(read.json?["parameters"] as? [String: Any])
            #expect(parameters["temperature"] as? Double == 0.3 && parameters["top_p"] as? Double == 0.9)
            #expect(parameters["seed"] as? Int == 42 && parameters["max_tokens"] as? Int == 300)
            #expect(parameters["stop"] as? [String] == ["END"] && parameters["presence_penalty"] as? Double == -0.5)
            #expect(try await h.store.conversation(id: id)?.parameters?.frequencyPenalty == 0.5)

            // A mistake names its field and changes nothing.
            for (body, says) in [
                (#"{"parameters":{"temperature":3}}"#, "'parameters.temperature' must be a number from 0 to 2"),
                (#"{"parameters":{"max_tokens":0}}"#, "'parameters.max_tokens' must be a whole number from 1"),
                (#"{"parameters":{"stop":["a","b","c","d","e"]}}"#, "'parameters.stop' must be up to 4"),
                (#"{"parameters":{"temprature":0.5}}"#, "'parameters.temprature' is not a setting Sluice keeps"),
                (#"{"parameters":0.5}"#, "'parameters' must be an object"),
            ] {
                let refused = try await h.request(.PATCH, "/api/conversations/\(id)", token: h.alice, body: body)
                #expect(refused.status == 400 && refused.errorMessage?.contains(says) == true, "\(body): \(refused.errorMessage ?? "")")
            }
            #expect(try await h.store.conversation(id: id)?.parameters?.temperature == 0.3)
            // Another user's conversation is not theirs to change.
            #expect(try await h.request(.PATCH, "/api/conversations/\(id)", token: h.bob, body: #"{"parameters":null}"#).status == 403)

            let removed = try await h.request(.PATCH, "/api/conversations/\(id)", token: h.alice, body: #"{"parameters":null}"#)
            #expect(removed.status == 200 && removed.json?["parameters"] == nil)
            #expect(try await h.store.conversation(id: id)?.parameters == nil)
        }
    }

    @Test("its web turns send them upstream — a message, a regenerate (whose own temperature wins) and an edit — and a gateway call does not")
    func sentWithWebTurns() async throws {
        try await Harness.run { h in
            let id = try await h.newConversation(h.alice, body: #"{"model":"sim-sampling","parameters":\#(Self.settings)}"#)
            let first = try await h.send(id, token: h.alice, body: #"{"content":"What went upstream?"}"#)
            #expect(Self.lines(first.text) == Self.sent, "\(first.text)")

            let answer = try #require(first.assistantID)
            let again = try await h.stream("/api/messages/\(answer)/regenerate", token: h.alice, method: .POST, body: #"{"temperature":0.8}"#)
            #expect(Self.lines(again.text) == ["temperature: 0.8"] + Self.sent.dropFirst(), "\(again.text)")

            let question = try #require(try await h.store.messages(conversationID: id).first { $0.role == .user })
            let edited = try await h.stream(
                "/api/messages/\(question.id)/edit", token: h.alice, method: .POST, body: #"{"content":"And now?"}"#)
            #expect(Self.lines(edited.text) == Self.sent, "\(edited.text)")

            // Without settings of its own, a conversation sends none.
            let plain = try await h.newConversation(h.alice, body: #"{"model":"sim-sampling"}"#)
            #expect(try await h.send(plain, token: h.alice).text == "no sampling settings\n")

            // The gateway: only the call's own settings, though its history continues this conversation's thread.
            let call = try await h.post("/v1/chat/completions", token: h.alice, json: [
                "model": "sim-sampling", "messages": [["role": "user", "content": "What went upstream?"]],
            ])
            #expect(call.text.contains("no sampling settings"), "\(call.text)")
        }
    }

    @Test("a branch goes on with them, and an export imported again keeps them", arguments: TestDatabases.backends)
    func carried(database: StoreBackend) async throws {
        try await Harness.run(database: database) { h in
            let id = try await h.newConversation(h.alice, body: #"{"model":"sim-sampling","parameters":\#(Self.settings)}"#)
            let answer = try #require(try await h.send(id, token: h.alice).assistantID)
            let branch = try await h.request(.POST, "/api/messages/\(answer)/branch", token: h.alice)
            #expect(branch.status == 201 && (branch.json?["parameters"] as? [String: Any])?["seed"] as? Int == 42)
            let branchID = try #require(branch.json?["id"] as? String)
            #expect(try await h.store.conversation(id: branchID)?.parameters?.stop == ["END"])
            #expect(Self.lines(try await h.send(branchID, token: h.alice).text) == Self.sent)

            // The web app's JSON export is the conversation as read.
            let exported = try await h.text("/api/conversations/\(id)", token: h.alice)
            let imported = try await h.request(.POST, "/api/conversations/import", token: h.alice, body: exported)
            #expect(imported.status == 201)
            let importedID = try #require((imported.json?["conversations"] as? [[String: Any]])?.first?["id"] as? String)
            #expect(try await h.store.conversation(id: importedID)?.parameters == (try await h.store.conversation(id: id))?.parameters)
        }
    }
}
