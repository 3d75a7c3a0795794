import Foundation
import SluiceCore
@testable import SluiceServer
import SluiceTestSupport
import Testing

/// The web app's "Thinking" picker: `reasoning_effort` on a message, a regeneration and an edit goes to the model
/// (the simulator's `echo` says what it got), a wrong one is refused before anything is stored, and `/api/models`
/// says which models reason, so the page offers the picker where it means something.
@Suite("Reasoning effort in the web app")
struct WebReasoningEffortTests {
    @Test("a message, a regeneration and an edit each take the effort picked", arguments: TestDatabases.backends)
    func sent(database: StoreBackend) async throws {
        try await Harness.run(database: database) { h in
            let conversation = try await h.newConversation(h.alice)
            let turn = try await h.send(conversation, token: h.alice, body: #"{"content":"Think","reasoning_effort":"high"}"#, scenario: "echo")
            #expect(turn.names.last == "done", "\(turn.body)")
            #expect(turn.text == "user: Think\nreasoning effort: high\n")

            let answer = try #require(turn.assistantID)
            let again = try await h.stream(
                "/api/messages/\(answer)/regenerate", token: h.alice, method: .POST, body: #"{"reasoning_effort":"low"}"#,
                headers: ["X-Sluice-Scenario": "echo"])
            #expect(again.text == "user: Think\nreasoning effort: low\n", "\(again.body)")
            // Without one, the model's default: nothing is sent.
            let plain = try await h.stream(
                "/api/messages/\(try #require(again.assistantID))/regenerate", token: h.alice, method: .POST, body: "{}",
                headers: ["X-Sluice-Scenario": "echo"])
            #expect(plain.text == "user: Think\n")

            let question = try #require(turn.meta?["user_message_id"] as? String)
            let edited = try await h.stream(
                "/api/messages/\(question)/edit", token: h.alice, method: .POST, body: #"{"content":"Think more","reasoning_effort":"medium"}"#,
                headers: ["X-Sluice-Scenario": "echo"])
            #expect(edited.text == "user: Think more\nreasoning effort: medium\n", "\(edited.body)")
        }
    }

    @Test("an effort the models do not know is a 400 that lists them, and the message is not stored")
    func refused() async throws {
        try await Harness.run { h in
            let conversation = try await h.newConversation(h.alice)
            let reply = try await h.request(
                .POST, "/api/conversations/\(conversation)/messages", token: h.alice, body: #"{"content":"Think","reasoning_effort":"max"}"#)
            #expect(reply.status == 400)
            #expect((reply.json?["error"] as? [String: Any])?["message"] as? String
                == "'reasoning_effort' must be none, minimal, low, medium, high or xhigh; 'max' is not one of them.")
            let thread = try await h.request(.GET, "/api/conversations/\(conversation)", token: h.alice)
            #expect((thread.json?["messages"] as? [Any])?.isEmpty == true)
        }
    }

    @Test("/api/models says which models reason: the public list's supports_reasoning, or the operator's word")
    func listed() async throws {
        var catalog = ModelCatalog()
        catalog.setReasons("thinker", true)
        catalog.setReasons("sim", false)
        try await Harness.run(catalog: catalog, listedModels: ["thinker", "unknown-sim"]) { h in
            let models = try #require(try await h.request(.GET, "/api/models", token: h.alice).json?["models"] as? [[String: Any]])
            let reasons = Dictionary(uniqueKeysWithValues: models.map { ($0["id"] as? String ?? "", $0["reasons"] as? Bool) })
            #expect(reasons == ["sim": false, "thinker": true, "unknown-sim": nil])
        }
        let list = FileManager.default.temporaryDirectory.appendingPathComponent("prices-\(UUID().uuidString).json")
        try Data(#"{"o3-mini":{"supports_reasoning":true,"max_tokens":100000},"gpt-4o":{"supports_reasoning":false,"supports_vision":true}}"#.utf8).write(to: list)
        defer { try? FileManager.default.removeItem(at: list) }
        let read = try ModelCatalog.litellm(contentsOf: list)
        #expect(read.reasons("o3-mini") == true && read.reasons("gpt-4o") == false && read.reasons("claude") == nil)
    }
}
