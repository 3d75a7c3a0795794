import Foundation
import SluiceCore
import SluiceServer
import SluiceStore
import SluiceTestSupport
import Testing

/// `POST /v1/rerank` through the gateway, against the simulator's rerank API over real HTTP.
@Suite("Rerank through the gateway: held, retried, charged")
struct RerankTests {
    static let documents = ["Paris is the capital of France.", "Bananas are rich in potassium.", "The capital of Japan is Tokyo."]

    @Test("documents come back ranked as the upstream ranked them, and the call is charged its tokens at the model's price",
          arguments: TestDatabases.backends)
    func rankAndCharge(_ backend: StoreBackend) async throws {
        let (catalog, price) = try EmbeddingsTests.pricedCatalog()
        try await Harness.run(budgets: true, database: backend, catalog: catalog) { h in
            let reply = try await h.post("/v1/rerank", token: h.alice, json: [
                "model": "sim", "query": "What is the capital of France?", "top_n": 2, "return_documents": true,
                "documents": [Self.documents[0], ["text": Self.documents[1]], Self.documents[2]],
            ])
            #expect(reply.status == 200, "\(reply.text)")
            let answer = try #require(EmbeddingsTests.object(reply.text))
            let results = try #require(answer["results"] as? [[String: Any]])
            #expect(results.compactMap { $0["index"] as? Int } == [0, 2], "France first, Japan's capital next; top_n 2")
            #expect((results.first?["document"] as? [String: Any])?["text"] as? String == Self.documents[0])
            let tokens = try #require((answer["usage"] as? [String: Any])?["total_tokens"] as? Int)
            #expect(tokens == 3 * 6 + 6 + 5 + 6, "the query (6 words) with each document")

            let history = try await h.request(.GET, "/api/usage?period=today&group=model", token: h.alice)
            let totals = try #require(history.json?["totals"] as? [String: Any])
            #expect(totals["input_tokens"] as? Int == tokens && totals["output_tokens"] as? Int == 0)
            #expect(totals["cost_usd"] as? String == price.cost(inputTokens: tokens, outputTokens: 0).decimalString)
            let metrics = try await h.text("/metrics")
            #expect(metrics.contains("sluice_rerank_requests_total{model=\"sim\",outcome=\"complete\"} 1"))
            #expect(metrics.contains("sluice_rerank_input_tokens_total{model=\"sim\"} \(tokens)"))
        }
    }

    @Test("with the response cache on, an identical call gets the first ranking at once, charged nothing and counted as a hit; another query, top_n, user or no-cache asks upstream",
          arguments: TestDatabases.backends)
    func cached(_ backend: StoreBackend) async throws {
        let (catalog, price) = try EmbeddingsTests.pricedCatalog()
        try await Harness.run(budgets: true, database: backend, catalog: catalog, responseCache: (ttl: .seconds(600), shared: false)) { h in
            let body: [String: Any] = ["model": "sim", "query": "What is the capital of France?", "documents": Self.documents]
            let first = try await h.post("/v1/rerank", token: h.alice, json: body)
            #expect(first.status == 200 && first.headers["X-Sluice-Cache"].first == "miss", "\(first.text)")
            let tokens = try #require((EmbeddingsTests.object(first.text)?["usage"] as? [String: Any])?["total_tokens"] as? Int)
            // The same fields in another order are the same call.
            let reordered = try await h.post("/v1/rerank", token: h.alice, json: [
                "documents": Self.documents, "query": "What is the capital of France?", "model": "sim",
            ])
            #expect(reordered.status == 200 && reordered.headers["X-Sluice-Cache"].first == "hit")
            let cost = price.cost(inputTokens: tokens, outputTokens: 0).decimalString
            #expect(GatewayCostTests.writtenCost(in: first.text[...]) == cost && GatewayCostTests.writtenCost(in: reordered.text[...]) == "0")
            #expect(reordered.text.replacingOccurrences(of: "\"cost\":0", with: "") == first.text.replacingOccurrences(of: "\"cost\":" + cost, with: ""),
                    "the first answer, byte for byte but for what it cost")
            #expect(try await h.simulatorStats()["rerank"] as? Int == 1)

            var other = body
            other["top_n"] = 1
            #expect(try await h.post("/v1/rerank", token: h.alice, json: other).headers["X-Sluice-Cache"].first == "miss")
            other = body
            other["query"] = "What is the capital of Japan?"
            #expect(try await h.post("/v1/rerank", token: h.alice, json: other).headers["X-Sluice-Cache"].first == "miss")
            #expect(try await h.post("/v1/rerank", token: h.bob, json: body).headers["X-Sluice-Cache"].first == "miss")
            let fresh = try await h.post("/v1/rerank", token: h.alice, headers: ["Cache-Control": "no-cache"], json: body)
            #expect(fresh.status == 200 && fresh.headers["X-Sluice-Cache"].first == nil)
            #expect(try await h.simulatorStats()["rerank"] as? Int == 5)

            let history = try await h.request(.GET, "/api/usage?period=today&group=model", token: h.alice)
            let totals = try #require(history.json?["totals"] as? [String: Any])
            #expect(totals["cache_hits"] as? Int == 1 && totals["saved_tokens"] as? Int == tokens)
            #expect(totals["saved_cost_usd"] as? String == price.cost(inputTokens: tokens, outputTokens: 0).decimalString)
            #expect(try await h.text("/metrics").contains("sluice_response_cache_lookups_total{model=\"sim\",result=\"hit\"} 1"))
        }
    }

    @Test("a call that does not fit the budget is refused before it goes upstream, in a rerank call's words")
    func budgetRefusal() async throws {
        try await Harness.run(budgets: true) { h in
            let alice = try #require(try await h.store.user(named: "alice"))
            try await h.store.setPlan(userID: alice.id, plan: .free, tokenLimit: 20)
            let refused = try await h.post("/v1/rerank", token: h.alice, json: [
                "model": "sim", "query": "What is the capital of France?", "documents": Self.documents,
            ])
            #expect(refused.status == 429)
            let message = try #require(EmbeddingsTests.errorMessage(refused.text))
            #expect(message.contains("this rerank call needs at least") && message.contains("Send fewer or shorter documents"), "\(message)")
            #expect(try await h.simulatorStats()["rerank"] as? Int == 0, "nothing went upstream")
        }
    }

    @Test("retries, refusals and bad input: a 429 is retried; an upstream's refusal is a 400 with its reason; Anthropic's has no rerank")
    func refusals() async throws {
        try await Harness.run { h in
            let body: [String: Any] = ["model": "sim", "query": "q", "documents": ["a", "b"]]
            let retried = try await h.post("/v1/rerank", token: h.alice, headers: ["X-Sluice-Scenario": "429x1"], json: body)
            #expect(retried.status == 200 && h.sleeper.waits == [.seconds(1)])
            let broken = try await h.post("/v1/rerank", token: h.alice, headers: ["X-Sluice-Scenario": "400"], json: body)
            #expect(broken.status == 400)
            #expect(EmbeddingsTests.errorMessage(broken.text)?.hasPrefix("The model service could not rank these documents (") == true)
            for bad: [String: Any] in [
                ["query": "q", "documents": ["a"]], ["model": "sim", "documents": ["a"]], ["model": "sim", "query": "q"],
                ["model": "sim", "query": "q", "documents": [String]()], ["model": "sim", "query": "q", "documents": [3]],
                ["model": "sim", "query": "q", "documents": ["a"], "top_n": 0],
            ] {
                let reply = try await h.post("/v1/rerank", token: h.alice, json: bad)
                #expect(reply.status == 400, "\(bad)")
                #expect(EmbeddingsTests.errorMessage(reply.text)?.isEmpty == false)
            }
            #expect(try await h.request(.POST, "/v1/rerank", token: nil, body: #"{"model":"sim","query":"q","documents":["a"]}"#).status == 401)
        }
        try await Harness.run(anthropic: true) { h in
            let reply = try await h.post("/v1/rerank", token: h.alice, json: ["model": "sim", "query": "q", "documents": ["a"]])
            #expect(reply.status == 400 && reply.text.contains("does not rank documents"), "\(reply.text)")
        }
    }
}
