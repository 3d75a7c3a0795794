import Foundation
import SluiceCore
import SluiceTestSupport
import Testing

@Suite("Renaming a conversation and changing its system prompt")
struct ConversationEditTests {
    @Test("PATCH renames and sets or removes the system prompt; the next turn counts it; bad input changes nothing",
          arguments: TestDatabases.backends)
    func edit(database: StoreBackend) async throws {
        try await Harness.run(database: database) { h in
            let id = try await h.newConversation(h.alice)
            let path = "/api/conversations/\(id)"
            let renamed = try await h.request(.PATCH, path, token: h.alice, body: #"{"title":"  Trip to Lisbon  "}"#)
            #expect(renamed.status == 200 && renamed.json?["title"] as? String == "Trip to Lisbon")
            #expect(renamed.json?["system_prompt"] == nil)
            #expect(try await h.request(.GET, "/api/conversations", token: h.alice).json.flatMap {
                ($0["conversations"] as? [[String: Any]])?.first?["title"] as? String } == "Trip to Lisbon")

            let estimate = { () async throws -> Int? in
                try await h.request(.POST, "\(path)/estimate", token: h.alice, body: #"{"content":"hello"}"#)
                    .json.flatMap { ($0["breakdown"] as? [String: Any])?["system"] as? Int }
            }
            #expect(try await estimate() == 0)
            let instructed = try await h.request(
                .PATCH, path, token: h.alice, body: #"{"system_prompt":"Answer in Portuguese, in one short sentence."}"#)
            #expect(instructed.json?["system_prompt"] as? String == "Answer in Portuguese, in one short sentence.")
            #expect(instructed.json?["title"] as? String == "Trip to Lisbon")
            #expect(try await estimate() == 7)  // the test tokenizer counts words
            // A renamed conversation keeps its name after its first message.
            #expect(try await h.send(id, token: h.alice).last?.event == "done")
            #expect(try await h.store.conversation(id: id)?.title == "Trip to Lisbon")

            let removed = try await h.request(.PATCH, path, token: h.alice, body: #"{"system_prompt":""}"#)
            #expect(removed.status == 200 && removed.json?["system_prompt"] == nil)
            #expect(try await estimate() == 0)

            for body in [#"{"title":"   "}"#, "{}", #"{"title":7}"#] {
                let bad = try await h.request(.PATCH, path, token: h.alice, body: body)
                #expect(bad.status == 400, "\(body)")
            }
            #expect(try await h.store.conversation(id: id)?.title == "Trip to Lisbon")
            #expect(try await h.request(.PATCH, path, token: h.bob, body: #"{"title":"mine now"}"#).status == 403)
            #expect(try await h.request(.PATCH, "/api/conversations/\(Identifier.make())", token: h.alice, body: #"{"title":"x"}"#).status == 404)
            #expect(try await h.store.conversation(id: id)?.title == "Trip to Lisbon")
        }
    }

    @Test("a gateway conversation whose system prompt was changed is no longer the client's thread")
    func systemPromptEndsTheThread() async throws {
        try await Harness.run { h in
            let first = try await GatewayThreadTests.call(h, token: h.alice, messages: [("user", "first")], system: "Be brief.", stream: false)
            let history = [("user", "first"), ("assistant", first.answer)]
            _ = try await h.request(.PATCH, "/api/conversations/\(first.conversation)", token: h.alice, body: #"{"system_prompt":"Be long."}"#)
            let second = try await GatewayThreadTests.call(
                h, token: h.alice, messages: history + [("user", "second")], system: "Be brief.", stream: false)
            #expect(second.conversation != first.conversation)
            #expect(try await h.store.messages(conversationID: first.conversation).count == 2)
            #expect(try await h.store.conversation(id: second.conversation)?.systemPrompt == "Be brief.")
        }
    }
}
