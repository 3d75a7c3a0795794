import Foundation
import SluiceCore
@testable import SluiceServer
import SluiceSimulator
import Testing

/// What a gateway call cost comes back with its answer — `usage.cost` (OpenRouter's field) and, for a whole answer, the
/// `X-Sluice-Response-Cost` header (LiteLLM's `x-litellm-response-cost`) — exactly what the ledger charged.
@Suite("Gateway call cost")
struct GatewayCostTests {
    /// The `"cost":…` member of the `usage` object in `json`, as written (an exact decimal), or nil.
    static func writtenCost(in json: Substring) -> String? {
        guard let usage = json.range(of: "\"usage\":{"), let cost = json[usage.upperBound...].range(of: "\"cost\":") else { return nil }
        return String(json[cost.upperBound...].prefix { $0.isNumber || $0 == "." })
    }

    @Test("a whole answer and a streamed one with its usage chunk say what they cost, to the picodollar the ledger charged")
    func costOnTheWire() async throws {
        let (catalog, price) = try PromptCacheTests.pricedCatalog()
        try await Harness.run(budgets: true, catalog: catalog) { h in
            let whole = try await h.post("/v1/chat/completions", token: h.alice, json: [
                "model": "sim", "messages": [["role": "user", "content": "What does this cost?"]],
            ])
            #expect(whole.status == 200, "\(whole.text)")
            let usage = try #require(EmbeddingsTests.object(whole.text)?["usage"] as? [String: Any])
            let input = try #require(usage["prompt_tokens"] as? Int)
            let output = try #require(usage["completion_tokens"] as? Int)
            let expected = price.cost(inputTokens: input, outputTokens: output).decimalString
            #expect(expected != "0")
            #expect(Self.writtenCost(in: whole.text[...]) == expected, "\(whole.text)")
            #expect(whole.headers.first(name: "X-Sluice-Response-Cost") == expected)
            #expect((usage["cost"] as? NSNumber) != nil, "a JSON number, as OpenRouter sends it")

            let body = try TextCompletionsTests.json([
                "model": "sim", "messages": [["role": "user", "content": "And streamed?"]], "stream": true,
                "stream_options": ["include_usage": true],
            ])
            let streamed = try await h.stream("/v1/chat/completions", token: h.alice, method: .POST, body: body)
            let last = try #require(streamed.body.split(separator: "\n").filter { $0.hasPrefix("data: {") }.last)
            let streamedUsage = try #require(EmbeddingsTests.object(String(last.dropFirst(6)))?["usage"] as? [String: Any])
            let streamedCost = price.cost(
                inputTokens: try #require(streamedUsage["prompt_tokens"] as? Int),
                outputTokens: try #require(streamedUsage["completion_tokens"] as? Int)
            ).decimalString
            #expect(Self.writtenCost(in: last) == streamedCost, "\(last)")

            // The ledger charged what the answers said.
            let history = try await h.request(.GET, "/api/usage?period=today&group=model", token: h.alice)
            let totals = try #require(history.json?["totals"] as? [String: Any])
            let sum = try #require(USDAmount(expected)) + (try #require(USDAmount(streamedCost)))
            #expect(totals["cost_usd"] as? String == sum.decimalString)
        }
    }

    @Test("a model without a known price says nothing about cost")
    func noPriceNoCost() async throws {
        try await Harness.run(budgets: true) { h in
            let whole = try await h.post("/v1/chat/completions", token: h.alice, json: [
                "model": "sim", "messages": [["role": "user", "content": "What does this cost?"]],
            ])
            #expect(whole.status == 200)
            let usage = try #require(EmbeddingsTests.object(whole.text)?["usage"] as? [String: Any])
            #expect(usage["cost"] == nil && usage["prompt_tokens"] != nil)
            #expect(whole.headers.first(name: "X-Sluice-Response-Cost") == nil)
        }
    }
}
