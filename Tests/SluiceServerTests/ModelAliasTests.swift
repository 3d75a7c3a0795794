import Foundation
import SluiceCore
import SluiceTestSupport
import Testing

@Suite("Model aliases on the gateway: a client's model name gets the model the operator chose")
struct ModelAliasTests {
    @Test("every API answers an alias with its model, stored under the model's own name; exact aliases are listed after the models")
    func aliasesResolve() async throws {
        try await Harness.run(budgets: true, listedModels: ["sim-echo"], aliases: ["gpt-4o": "sim", "claude-*": "sim-echo"]) { h in
            let chat = try await h.request(
                .POST, "/v1/chat/completions", token: h.alice, body: #"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#)
            #expect(chat.status == 200 && chat.json?["model"] as? String == "sim")
            let conversationID = try #require(chat.headers.first(name: "X-Sluice-Conversation-Id"))
            #expect(try await h.store.conversation(id: conversationID)?.model == "sim")

            let anthropic = try await AnthropicGatewayTests.call(h, token: h.alice, body: [
                "model": "claude-sonnet-4-5-20250929", "max_tokens": 50, "messages": [["role": "user", "content": "hi"]],
            ])
            #expect(anthropic.status == 200 && AnthropicGatewayTests.object(anthropic.text)?["model"] as? String == "sim-echo")
            let counted = try await AnthropicCountAndLimitsTests.countTokens(h, token: h.alice, body: [
                "model": "claude-haiku-4-5", "messages": [["role": "user", "content": "hi"]],
            ])
            #expect(counted.status == 200, "\(counted.text)")
            let response = try await ResponsesGatewayTests.create(h, ["model": "gpt-4o", "input": "hi"])
            #expect(response.status == 200 && response.json?["model"] as? String == "sim")

            // Found under the name asked for; listed after the models when it is a name (a prefix is not).
            let retrieved = try await h.request(.GET, "/v1/models/claude-opus-4-1", token: h.alice)
            #expect(retrieved.status == 200 && retrieved.json?["id"] as? String == "claude-opus-4-1")
            let listed = try await h.request(.GET, "/v1/models", token: h.alice)
            #expect((listed.json?["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["sim", "sim-echo", "gpt-4o"])
            #expect(listed.json?["last_id"] as? String == "gpt-4o")
            #expect(try await h.request(.GET, "/v1/models/mistral", token: h.alice).status == 404)
        }
    }

    @Test("an alias of a model the user may not use is refused as that model is")
    func aliasesKeepModelAccess() async throws {
        try await Harness.run(listedModels: ["sim-echo"], aliases: ["gpt-4o": "sim"]) { h in
            let bob = try #require(try await h.store.user(named: "bob"))
            try await h.store.setAllowedModels(userID: bob.id, models: ["sim-echo"])
            let refused = try await h.request(
                .POST, "/v1/chat/completions", token: h.bob, body: #"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#)
            #expect(refused.status == 403 && refused.errorCode == "model_not_allowed")
            #expect(refused.errorMessage?.contains("'sim'") == true, "\(refused.errorMessage ?? "-")")
            #expect(try await h.request(.GET, "/v1/models/gpt-4o", token: h.bob).status == 404)
            // Nor is it listed for them.
            let listed = try await h.request(.GET, "/v1/models", token: h.bob)
            #expect((listed.json?["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["sim-echo"])
        }
    }
}
