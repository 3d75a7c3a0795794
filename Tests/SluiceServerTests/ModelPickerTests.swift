import Foundation
import SluiceCore
import SluiceServer
import SluiceTestSupport
import Testing

/// What the web app's model picker stands on: `GET /api/models`, a message or regeneration that picks another model,
/// and the estimate for the model picked.
@Suite("Model picker")
struct ModelPickerTests {
    static var catalog: ModelCatalog {
        var catalog = ModelCatalog()
        catalog.setContextWindow("sim", 8192)
        catalog.setPrice("sim", .free)
        catalog.setContextWindow("large-sim", 128_000)
        catalog.setPrice("large-sim", try! #require(ModelPrice(inputPerMillion: "0.15", outputPerMillion: "0.6", cachedInputPerMillion: "0.075")))
        return catalog
    }

    @Test("the caller's models with their windows and exact prices, and the default a new conversation gets",
          arguments: TestDatabases.backends)
    func list(database: StoreBackend) async throws {
        try await Harness.run(database: database, catalog: Self.catalog, listedModels: ["large-sim", "unpriced-sim"]) { h in
            let reply = try await h.request(.GET, "/api/models", token: h.bob)
            #expect(reply.status == 200)
            #expect(reply.json?["default"] as? String == "sim")
            // The guard's length limit, for the composer: longer text goes as a file.
            #expect(reply.json?["max_message_characters"] as? Int == 2000)
            let models = try #require(reply.json?["models"] as? [[String: Any]])
            #expect(models.compactMap { $0["id"] as? String } == ["sim", "large-sim", "unpriced-sim"])
            #expect(models[0]["context_window"] as? Int == 8192)
            #expect(models[0]["input_usd_per_million"] as? String == "0" && models[0]["output_usd_per_million"] as? String == "0")
            #expect(models[1]["context_window"] as? Int == 128_000)
            #expect(models[1]["input_usd_per_million"] as? String == "0.15" && models[1]["output_usd_per_million"] as? String == "0.6")
            #expect(models[1]["cached_input_usd_per_million"] as? String == "0.075" && models[0]["cached_input_usd_per_million"] == nil)
            // What the catalog does not know is left out, not made up.
            #expect(models[2]["context_window"] == nil && models[2]["input_usd_per_million"] == nil)

            // A user restricted to some models sees only those, and the first of them as the default.
            let alice = try #require(try await h.store.user(named: "alice"))
            try await h.store.setAllowedModels(userID: alice.id, models: ["large-sim", "unpriced-sim"])
            let restricted = try await h.request(.GET, "/api/models", token: h.alice)
            #expect(restricted.json?["default"] as? String == "large-sim")
            #expect((restricted.json?["models"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["large-sim", "unpriced-sim"])
            #expect(try await h.request(.GET, "/api/models", token: nil).status == 401)
        }
    }

    @Test("a message or a regeneration with another model answers with it, and the conversation goes on with it")
    func pickAnotherModel() async throws {
        try await Harness.run(catalog: Self.catalog, listedModels: ["large-sim"]) { h in
            let conversation = try await h.newConversation(h.alice)
            let first = try await h.send(conversation, token: h.alice, body: #"{"content":"one"}"#)
            #expect(try await h.answer(first).model == "sim")
            #expect(try await h.request(.GET, "/api/conversations/\(conversation)", token: h.alice).json?["context_window"] as? Int == 8192)

            let second = try await h.send(conversation, token: h.alice, body: #"{"content":"two","model":"large-sim"}"#)
            #expect(second.last?.event == "done", "\(second.body)")
            #expect(try await h.answer(second).model == "large-sim")
            let shown = try await h.request(.GET, "/api/conversations/\(conversation)", token: h.alice)
            #expect(shown.json?["model"] as? String == "large-sim")
            #expect(shown.json?["context_window"] as? Int == 128_000)
            // The next message without a model goes on with the one picked last.
            let third = try await h.send(conversation, token: h.alice, body: #"{"content":"three"}"#)
            #expect(try await h.answer(third).model == "large-sim")

            let answerID = try #require(third.assistantID)
            let regenerated = try await h.stream(
                "/api/messages/\(answerID)/regenerate", token: h.alice, method: .POST, body: #"{"model":"sim"}"#)
            #expect(regenerated.last?.event == "done")
            #expect(try await h.answer(regenerated).model == "sim")
            #expect(try await h.store.conversation(id: conversation)?.model == "sim")
        }
    }

    @Test("the estimate counts against the window of the model picked, and refuses one the user may not use")
    func estimateForModel() async throws {
        try await Harness.run(catalog: Self.catalog, listedModels: ["large-sim"]) { h in
            // Before Alice's first request: the server keeps a user it has seen for a few seconds.
            let alice = try #require(try await h.store.user(named: "alice"))
            try await h.store.setAllowedModels(userID: alice.id, models: ["sim"])

            let conversation = try await h.newConversation(h.bob)
            let path = "/api/conversations/\(conversation)/estimate"
            let own = try await h.request(.POST, path, token: h.bob, body: #"{"content":"hello there"}"#)
            #expect(own.status == 200 && own.json?["context_window"] as? Int == 8192)
            let picked = try await h.request(.POST, path, token: h.bob, body: #"{"content":"hello there","model":"large-sim"}"#)
            #expect(picked.status == 200 && picked.json?["context_window"] as? Int == 128_000)
            #expect(picked.json?["input_tokens"] as? Int == own.json?["input_tokens"] as? Int)
            // An estimate changes nothing: the conversation keeps its model.
            #expect(try await h.store.conversation(id: conversation)?.model == "sim")

            let hers = try await h.newConversation(h.alice)
            let refused = try await h.request(
                .POST, "/api/conversations/\(hers)/estimate", token: h.alice, body: #"{"content":"hi","model":"large-sim"}"#)
            #expect(refused.status == 403 && (refused.json?["error"] as? [String: Any])?["code"] as? String == "model_not_allowed")
        }
    }
}
