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

    @Test("Anthropic's Messages, the Responses API, text completions and embeddings say what a call cost, as the ledger charged it")
    func costOnTheOtherWires() async throws {
        let (catalog, price) = try PromptCacheTests.pricedCatalog()
        try await Harness.run(budgets: true, catalog: catalog) { h in
            let cost = { (input: Any?, output: Any?) throws -> String in
                price.cost(inputTokens: try #require(input as? Int), outputTokens: try #require(output as? Int)).decimalString
            }
            var charged: [String] = []
            func said(_ expected: String, in json: Substring, header: String?? = .none, _ wire: String) {
                #expect(expected != "0", "\(wire)")
                #expect(Self.writtenCost(in: json) == expected, "\(wire): \(json)")
                if case .some(let header) = header { #expect(header == expected, "\(wire)'s X-Sluice-Response-Cost") }
                charged.append(expected)
            }
            let question = [["role": "user", "content": "What does this cost?"]]

            // Anthropic's Messages, whole (the input with no prompt cache is all `input_tokens`) and streamed.
            let message = try await AnthropicGatewayTests.call(h, token: h.alice, body: ["model": "sim", "max_tokens": 50, "messages": question])
            let messageUsage = try #require(EmbeddingsTests.object(message.text)?["usage"] as? [String: Any])
            said(try cost(messageUsage["input_tokens"], messageUsage["output_tokens"]), in: message.text[...],
                 header: message.headers.first(name: "X-Sluice-Response-Cost"), "messages")
            let messageBody = try TextCompletionsTests.json(["model": "sim", "max_tokens": 50, "stream": true, "messages": question])
            let messageStream = try await h.stream("/v1/messages", token: h.alice, method: .POST, body: messageBody)
            let delta = try #require(messageStream.events.first { $0.event == "message_delta" })
            let deltaUsage = try #require(Harness.Turn.object(delta)?["usage"] as? [String: Any])
            said(try cost(deltaUsage["input_tokens"], deltaUsage["output_tokens"]), in: delta.data[...], "messages, streamed")

            // The Responses API, whole and streamed, and a stored response read back.
            let response = try await h.post("/v1/responses", token: h.alice, json: ["model": "sim", "input": "What does this cost?"])
            let responseObject = try #require(EmbeddingsTests.object(response.text))
            let responseUsage = try #require(responseObject["usage"] as? [String: Any])
            let responseCost = try cost(responseUsage["input_tokens"], responseUsage["output_tokens"])
            said(responseCost, in: response.text[...], header: response.headers.first(name: "X-Sluice-Response-Cost"), "responses")
            let stored = try await h.text("/v1/responses/\(try #require(responseObject["id"] as? String))", token: h.alice)
            #expect(Self.writtenCost(in: stored[...]) == responseCost, "\(stored)")
            let responseBody = try TextCompletionsTests.json(["model": "sim", "input": "And streamed?", "stream": true])
            let responseStream = try await h.stream("/v1/responses", token: h.alice, method: .POST, body: responseBody)
            let completed = try #require(responseStream.events.first { $0.event == "response.completed" })
            let completedUsage = try #require(
                (Harness.Turn.object(completed)?["response"] as? [String: Any])?["usage"] as? [String: Any])
            said(try cost(completedUsage["input_tokens"], completedUsage["output_tokens"]), in: completed.data[...], "responses, streamed")

            // Text completions and embeddings pass the upstream's body on as it came: the header says what they cost.
            let text = try await h.post("/v1/completions", token: h.alice, json: ["model": "sim", "prompt": "Once upon a time", "max_tokens": 5])
            let textUsage = try #require(EmbeddingsTests.object(text.text)?["usage"] as? [String: Any])
            let textCost = try cost(textUsage["prompt_tokens"], textUsage["completion_tokens"])
            #expect(text.headers.first(name: "X-Sluice-Response-Cost") == textCost)
            charged.append(textCost)
            let vectors = try await h.post("/v1/embeddings", token: h.alice, json: ["model": "sim", "input": "the quick brown fox"])
            let vectorsUsage = try #require(EmbeddingsTests.object(vectors.text)?["usage"] as? [String: Any])
            let vectorsCost = try cost(vectorsUsage["prompt_tokens"], 0)
            #expect(vectorsCost != "0" && vectors.headers.first(name: "X-Sluice-Response-Cost") == vectorsCost)
            charged.append(vectorsCost)

            let history = try await h.request(.GET, "/api/usage?period=today&group=model", token: h.alice)
            let totals = try #require(history.json?["totals"] as? [String: Any])
            let sum = try charged.reduce(USDAmount.zero) { $0 + (try #require(USDAmount($1))) }
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
            let others = [
                ("/v1/messages", ["model": "sim", "max_tokens": 50, "messages": [["role": "user", "content": "Hi"]]] as [String: Any]),
                ("/v1/responses", ["model": "sim", "input": "Hi"]),
                ("/v1/completions", ["model": "sim", "prompt": "Once upon a time", "max_tokens": 5]),
                ("/v1/embeddings", ["model": "sim", "input": "the quick brown fox"]),
            ]
            for (path, body) in others {
                let reply = try await h.post(path, token: h.alice, json: body)
                #expect(reply.status == 200, "\(path): \(reply.text)")
                #expect(Self.writtenCost(in: reply.text[...]) == nil && reply.headers.first(name: "X-Sluice-Response-Cost") == nil, "\(path)")
            }
        }
    }
}
