import Foundation
import SluiceCore
import SluiceServer
import SluiceStore
import SluiceTestSupport
import Testing

/// `POST /v1/embeddings` through the gateway, against the simulator's embeddings API over real HTTP.
@Suite("Embeddings through the gateway: held, retried, charged")
struct EmbeddingsTests {
    static func pricedCatalog() throws -> (ModelCatalog, ModelPrice) {
        let price = try #require(ModelPrice(inputPerMillion: "0.13", outputPerMillion: "0"))
        var catalog = ModelCatalog()
        catalog.setPrice("sim", price)
        return (catalog, price)
    }

    static func object(_ text: String) -> [String: Any]? {
        try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
    }

    static func errorMessage(_ text: String) -> String? {
        (object(text)?["error"] as? [String: Any])?["message"] as? String
    }

    static func vectors(_ text: String) -> [[Double]] {
        ((object(text)?["data"] as? [[String: Any]]) ?? []).compactMap { $0["embedding"] as? [Double] }
    }

    @Test("vectors come back as the upstream made them, and the call is charged its input tokens at the model's price, in the ledger and the metrics",
          arguments: TestDatabases.backends)
    func embedAndCharge(_ backend: StoreBackend) async throws {
        let (catalog, price) = try Self.pricedCatalog()
        try await Harness.run(budgets: true, database: backend, catalog: catalog) { h in
            let reply = try await h.post("/v1/embeddings", token: h.alice, json: [
                "model": "sim", "input": ["the quick brown fox", "jumps over the lazy dog"],
            ])
            #expect(reply.status == 200, "\(reply.text)")
            let vectors = Self.vectors(reply.text)
            try #require(vectors.count == 2)
            #expect(vectors.allSatisfy { $0.count == 16 })
            #expect(vectors[0] != vectors[1])
            let usage = try #require(Self.object(reply.text)?["usage"] as? [String: Any])
            #expect(usage["prompt_tokens"] as? Int == 9)
            // The same text, alone, gets the same vector: the upstream's answer is passed on, not made up.
            let again = try await h.post("/v1/embeddings", token: h.alice, json: ["model": "sim", "input": "the quick brown fox"])
            #expect(Self.vectors(again.text) == [vectors[0]])

            let history = try await h.request(.GET, "/api/usage?period=today&group=model", token: h.alice)
            let totals = try #require(history.json?["totals"] as? [String: Any])
            #expect(totals["input_tokens"] as? Int == 13 && totals["output_tokens"] as? Int == 0)
            #expect(totals["cost_usd"] as? String == price.cost(inputTokens: 13, outputTokens: 0).decimalString)
            // Nothing else was stored: an embeddings call is not a conversation.
            let conversations = try await h.request(.GET, "/api/conversations", token: h.alice)
            #expect((conversations.json?["conversations"] as? [Any])?.isEmpty == true)
            let metrics = try await h.text("/metrics")
            #expect(metrics.contains("sluice_embedding_requests_total{model=\"sim\",outcome=\"complete\"} 2"))
            #expect(metrics.contains("sluice_embedding_input_tokens_total{model=\"sim\"} 13"))
        }
    }

    @Test("dimensions and base64 are passed on; token ids are taken as OpenAI's API takes them")
    func options() async throws {
        try await Harness.run { h in
            let reply = try await h.post("/v1/embeddings", token: h.alice, json: [
                "model": "sim", "input": "a short text", "dimensions": 4, "encoding_format": "base64",
            ])
            let item = try #require((Self.object(reply.text)?["data"] as? [[String: Any]])?.first)
            let encoded = try #require(item["embedding"] as? String)
            #expect(Data(base64Encoded: encoded)?.count == 4 * 4, "four float32 values")
            let tokens = try await h.post("/v1/embeddings", token: h.alice, json: ["model": "sim", "input": [[1, 2, 3], [4, 5]]])
            #expect(Self.vectors(tokens.text).count == 2)
            #expect((Self.object(tokens.text)?["usage"] as? [String: Any])?["prompt_tokens"] as? Int == 5)
        }
    }

    @Test("with the response cache on, an identical call gets the first call's vectors at once, charged nothing and counted as a hit; Cache-Control: no-cache asks upstream again",
          arguments: TestDatabases.backends)
    func cached(_ backend: StoreBackend) async throws {
        let (catalog, price) = try Self.pricedCatalog()
        try await Harness.run(budgets: true, database: backend, catalog: catalog, responseCache: (ttl: .seconds(600), shared: false)) { h in
            let body: [String: Any] = ["model": "sim", "input": ["the quick brown fox", "jumps over the lazy dog"]]
            let first = try await h.post("/v1/embeddings", token: h.alice, json: body)
            #expect(first.headers["X-Sluice-Cache"].first == "miss")
            let second = try await h.post("/v1/embeddings", token: h.alice, json: body)
            #expect(second.status == 200 && second.headers["X-Sluice-Cache"].first == "hit")
            #expect(Self.vectors(second.text) == Self.vectors(first.text) && Self.vectors(first.text).count == 2, "the first answer's vectors")
            // What each cost, in the header and added to the upstream's usage: a hit costs nothing.
            let cost = price.cost(inputTokens: 9, outputTokens: 0).decimalString
            #expect(first.headers.first(name: "X-Sluice-Response-Cost") == cost && GatewayCostTests.writtenCost(in: first.text[...]) == cost)
            #expect(second.headers.first(name: "X-Sluice-Response-Cost") == "0" && GatewayCostTests.writtenCost(in: second.text[...]) == "0")
            #expect(second.text.replacingOccurrences(of: "\"cost\":0", with: "") == first.text.replacingOccurrences(of: "\"cost\":" + cost, with: ""),
                    "the rest byte for byte")
            #expect(try await h.simulatorStats()["embeddings"] as? Int == 1)
            // Other dimensions, another user's cache, or no-cache: upstream again.
            var other = body
            other["dimensions"] = 8
            #expect(try await h.post("/v1/embeddings", token: h.alice, json: other).headers["X-Sluice-Cache"].first == "miss")
            #expect(try await h.post("/v1/embeddings", token: h.bob, json: body).headers["X-Sluice-Cache"].first == "miss")
            let fresh = try await h.post("/v1/embeddings", token: h.alice, headers: ["Cache-Control": "no-cache"], json: body)
            #expect(fresh.headers["X-Sluice-Cache"].first == nil && fresh.status == 200)
            #expect(try await h.simulatorStats()["embeddings"] as? Int == 4)

            let history = try await h.request(.GET, "/api/usage?period=today&group=model", token: h.alice)
            let totals = try #require(history.json?["totals"] as? [String: Any])
            #expect(totals["input_tokens"] as? Int == 27, "three calls charged (9 each), the hit not")
            #expect(totals["cache_hits"] as? Int == 1 && totals["saved_tokens"] as? Int == 9)
            #expect(totals["saved_cost_usd"] as? String == price.cost(inputTokens: 9, outputTokens: 0).decimalString)
        }
    }

    @Test("a call that does not fit the budget is refused before it goes upstream")
    func budgetRefusal() async throws {
        try await Harness.run(budgets: true) { h in
            let alice = try #require(try await h.store.user(named: "alice"))
            try await h.store.setPlan(userID: alice.id, plan: .free, tokenLimit: 20)
            let words = Array(repeating: "word", count: 40).joined(separator: " ")
            let refused = try await h.post("/v1/embeddings", token: h.alice, json: ["model": "sim", "input": words])
            #expect(refused.status == 429)
            #expect((Self.object(refused.text)?["error"] as? [String: Any])?["code"] as? String == "budget_exceeded")
            // Many short texts are counted together (eight at a time): 30 × 2 words do not fit either.
            let many = try await h.post("/v1/embeddings", token: h.alice, json: ["model": "sim", "input": Array(repeating: "two words", count: 30)])
            #expect(many.status == 429, "\(many.text)")
            // Said in an embeddings call's words, not a chat's.
            let message = try #require((Self.object(many.text)?["error"] as? [String: Any])?["message"] as? String)
            #expect(message.hasPrefix("You have 20 of your 20 tokens left until "))
            #expect(message.contains("this embeddings call needs at least 61. Send fewer or shorter texts, upgrade your plan"), "\(message)")
            #expect(!message.contains("conversation"))
            let stats = try await h.simulatorStats()
            #expect(stats["embeddings"] as? Int == 0, "nothing went upstream")
            // A call that fits goes through, and what it used counts against the budget.
            #expect(try await h.post("/v1/embeddings", token: h.alice, json: ["model": "sim", "input": "five words fit in budget"]).status == 200)
            #expect(try await h.store.budget(userID: alice.id, now: Date()).used == 5)
        }
    }

    @Test("a call's end user (`user`) is held to the daily limit per end user, and its cost counts in that end user's day",
          arguments: TestDatabases.backends)
    func endUserLimit(_ backend: StoreBackend) async throws {
        let (catalog, price) = try Self.pricedCatalog()
        try await Harness.run(budgets: true, database: backend, catalog: catalog) { h in
            let alice = try #require(try await h.store.user(named: "alice"))
            // One call of 9 tokens costs $0.00000117: a second would pass the limit.
            let oneCall = price.cost(inputTokens: 9, outputTokens: 0)
            try await h.store.setEndUserDailyDollarLimit(userID: alice.id, limit: try #require(USDAmount("0.000002")))
            let body: [String: Any] = ["model": "sim", "input": ["the quick brown fox", "jumps over the lazy dog"], "user": "shop-1"]
            #expect(try await h.post("/v1/embeddings", token: h.alice, json: body).status == 200)
            let refused = try await h.post("/v1/embeddings", token: h.alice, json: body)
            #expect(refused.status == 429, "\(refused.text)")
            let message = Self.errorMessage(refused.text)
            #expect(message?.contains("The end user 'shop-1' has spent $\(oneCall.decimalString) of the $0.000002 a day") == true,
                    "\(message ?? "-")")
            #expect(refused.headers.first(name: "x-should-retry") == "false")
            #expect(try await h.simulatorStats()["embeddings"] as? Int == 1, "the refused call never went upstream")
            // Another end user, and a call without one, are not held to shop-1's day.
            var other = body
            other["user"] = "shop-2"
            #expect(try await h.post("/v1/embeddings", token: h.alice, json: other).status == 200)
            other["user"] = nil
            #expect(try await h.post("/v1/embeddings", token: h.alice, json: other).status == 200)
            let rows = try #require(
                try await h.request(.GET, "/api/usage?period=today&group=end_user", token: h.alice).json?["series"] as? [[String: Any]])
            let cost = Dictionary(uniqueKeysWithValues: rows.map { ($0["key"] as? String ?? "?", $0["cost_usd"] as? String ?? "?") })
            #expect(cost == ["shop-1": oneCall.decimalString, "shop-2": oneCall.decimalString, "": oneCall.decimalString])
            let shop1 = try await h.request(.GET, "/api/usage/end-user?name=shop-1", token: h.alice)
            #expect(shop1.json?["spent"] as? String == oneCall.decimalString)
            // An end user's name is an id, not a document.
            let long = try await h.post(
                "/v1/embeddings", token: h.alice, json: ["model": "sim", "input": "x", "user": String(repeating: "a", count: 300)])
            #expect(long.status == 400 && Self.errorMessage(long.text)?.contains("'user' is 300 characters long") == true)
        }
    }

    @Test("an upstream 429 is retried after its Retry-After; one that asks for too long a wait is the client's 429")
    func retries() async throws {
        try await Harness.run { h in
            let retried = try await h.post(
                "/v1/embeddings", token: h.alice, headers: ["X-Sluice-Scenario": "429x1"], json: ["model": "sim", "input": "hello"])
            #expect(retried.status == 200, "\(retried.text)")
            #expect(h.sleeper.waits == [.seconds(1)])
            let long = try await h.post(
                "/v1/embeddings", token: h.alice, headers: ["X-Sluice-Scenario": "429-long"], json: ["model": "sim", "input": "hello"])
            #expect(long.status == 429)
            #expect((Self.object(long.text)?["error"] as? [String: Any])?["message"] as? String != nil)
            let broken = try await h.post(
                "/v1/embeddings", token: h.alice, headers: ["X-Sluice-Scenario": "400"], json: ["model": "sim", "input": "hello"])
            #expect(broken.status == 400, "a mistake in the request is not retried")
            let reason = (Self.object(broken.text)?["error"] as? [String: Any])?["message"] as? String
            #expect(reason?.hasPrefix("The model service could not make these embeddings (This model's maximum context length") == true, "\(reason ?? "")")
            #expect(h.sleeper.waits.count == 1)
        }
    }

    @Test("bad input is a 400 that says what is wrong; a model the user may not use is a 403; no token is a 401")
    func refusals() async throws {
        try await Harness.run { h in
            for body: [String: Any] in [
                ["input": "no model"], ["model": "sim"], ["model": "sim", "input": ""], ["model": "sim", "input": [String]()],
                ["model": "sim", "input": [1, "two"]], ["model": "sim", "input": "x", "dimensions": 0],
                ["model": "sim", "input": "x", "encoding_format": "hex"], ["model": "sim", "input": "x", "user": 3],
            ] {
                let reply = try await h.post("/v1/embeddings", token: h.alice, json: body)
                #expect(reply.status == 400, "\(body)")
                let message = (Self.object(reply.text)?["error"] as? [String: Any])?["message"] as? String
                #expect(message?.isEmpty == false)
            }
            // (Bob has not called yet: the server's token cache has no earlier view of his models.)
            let bob = try #require(try await h.store.user(named: "bob"))
            try await h.store.setAllowedModels(userID: bob.id, models: ["other"])
            #expect(try await h.post("/v1/embeddings", token: h.bob, json: ["model": "sim", "input": "x"]).status == 403)
            #expect(try await h.request(.POST, "/v1/embeddings", token: nil, body: #"{"model":"sim","input":"x"}"#).status == 401)
            let stats = try await h.simulatorStats()
            #expect(stats["embeddings"] as? Int == 0)
        }
    }

    @Test("an upstream without an embeddings API (Anthropic's) is a 400 that says so")
    func anthropicHasNone() async throws {
        try await Harness.run(anthropic: true) { h in
            let reply = try await h.post("/v1/embeddings", token: h.alice, json: ["model": "sim", "input": "x"])
            #expect(reply.status == 400)
            #expect(reply.text.contains("does not make embeddings") && reply.text.contains("Use an embedding model"))
        }
    }
}
