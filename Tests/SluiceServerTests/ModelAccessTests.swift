import Foundation
import SluiceCore
import SluiceStore
import SluiceTestSupport
import Testing

@Suite("Models a user may use: 403 model_not_allowed before anything is stored or sent")
struct ModelAccessTests {
    @Test("the gateway lists, retrieves and answers only the user's models; another user keeps every model",
          arguments: TestDatabases.backends)
    func gateway(database: StoreBackend) async throws {
        try await Harness.run(database: database, listedModels: ["sim", "sim-echo"]) { h in
            let alice = try #require(try await h.store.user(named: "alice"))
            // Before Alice's first request: the server keeps a user it has seen for a few seconds.
            try await h.store.setAllowedModels(userID: alice.id, models: ["sim-echo"])

            let list = try await h.request(.GET, "/v1/models", token: h.alice)
            #expect((list.json?["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["sim-echo"])
            #expect(try await h.request(.GET, "/v1/models/sim-echo", token: h.alice).status == 200)
            let hidden = try await h.request(.GET, "/v1/models/sim", token: h.alice)
            #expect(hidden.status == 404 && hidden.errorMessage?.contains("or your account may not use it") == true)

            let refused = try await GatewayEndUserTests.call(h, messages: [("user", "hello")], fields: ["model": "sim"])
            #expect(refused.status == 403)
            let error = try #require(refused.json?["error"] as? [String: Any])
            #expect(error["code"] as? String == "model_not_allowed" && error["type"] as? String == "permission_error")
            #expect(refused.errorMessage?.contains("may not use the model 'sim'. It may use: sim-echo.") == true, "\(refused.errorMessage ?? "-")")
            // Refused at the door: no conversation, no message, nothing held.
            #expect(try await h.store.conversations(userID: alice.id).isEmpty)
            let metrics = try await h.text("/metrics")
            #expect(metrics.contains("sluice_api_errors_total{code=\"model_not_allowed\"} 1"))
            #expect(metrics.contains("sluice_api_errors_total{code=\"model_not_found\"} 1"))
            #expect(try await GatewayEndUserTests.call(h, messages: [("user", "hello")], fields: ["model": "sim-echo"]).status == 200)
            // A call without a model goes to the user's model.
            let body = #"{"messages":[{"role":"user","content":"hi"}]}"#
            let unnamed = try await h.request(.POST, "/v1/chat/completions", token: h.alice, body: body)
            #expect(unnamed.status == 200 && unnamed.json?["model"] as? String == "sim-echo")

            let bobs = try await h.request(.GET, "/v1/models", token: h.bob)
            #expect((bobs.json?["data"] as? [[String: Any]])?.count == 2)
            let bob = try await h.request(
                .POST, "/v1/chat/completions", token: h.bob, body: #"{"model":"sim","messages":[{"role":"user","content":"hi"}]}"#)
            #expect(bob.status == 200)
        }
    }

    @Test("the web API refuses a new conversation, a message and a regeneration with a model the user may not use")
    func webAPI() async throws {
        try await Harness.run { h in
            let alice = try #require(try await h.store.user(named: "alice"))
            // A conversation on `sim` from before the restriction, with its answer.
            let old = Conversation.starting(userID: alice.id, title: "old", model: "sim", systemPrompt: nil)
            let question = Message(
                id: Identifier.make(), conversationID: old.id, role: .user, content: "hi", status: .complete, model: nil, createdAt: Date())
            let answer = Message(
                id: Identifier.make(), conversationID: old.id, role: .assistant, content: "hello", status: .complete, model: "sim",
                createdAt: Date().addingTimeInterval(0.001))
            try await h.store.createConversation(old, messages: [question, answer])
            try await h.store.setAllowedModels(userID: alice.id, models: ["sim-echo"])

            let created = try await h.request(.POST, "/api/conversations", token: h.alice, body: #"{"model":"sim"}"#)
            #expect(created.status == 403 && created.errorMessage?.contains("may not use the model 'sim'") == true)
            let send = try await h.request(.POST, "/api/conversations/\(old.id)/messages", token: h.alice, body: #"{"content":"more"}"#)
            #expect(send.status == 403)
            let regenerate = try await h.request(.POST, "/api/messages/\(answer.id)/regenerate", token: h.alice, body: "{}")
            #expect(regenerate.status == 403)
            #expect((regenerate.json?["error"] as? [String: Any])?["code"] as? String == "model_not_allowed")
            // Nothing was added to the old conversation, and no new one was made.
            #expect(try await h.store.messages(conversationID: old.id).map(\.id) == [question.id, answer.id])
            #expect(try await h.store.conversations(userID: alice.id).map(\.id) == [old.id])

            // The allowed model works, in a new conversation and as a message's model in the old one.
            let allowed = try await h.request(.POST, "/api/conversations", token: h.alice, body: #"{"model":"sim-echo"}"#)
            #expect(allowed.status == 201)
            // A conversation that names no model (the web app's) gets the user's first model, not the server's default.
            let unnamed = try await h.request(.POST, "/api/conversations", token: h.alice, body: "{}")
            #expect(unnamed.status == 201 && unnamed.json?["model"] as? String == "sim-echo")
            #expect(try await h.request(.POST, "/api/conversations", token: h.bob, body: "{}").json?["model"] as? String == "sim")
            let echo = try await h.send(old.id, token: h.alice, body: #"{"content":"more","model":"sim-echo"}"#)
            #expect(echo.last?.event == "done")
        }
    }
}
