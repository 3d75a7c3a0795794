import Foundation
import SluiceCore
import SluiceServer
import SluiceSimulator
import SluiceStore
import SluiceTestSupport
import Testing

/// The providers' prompt caches: the part of a prompt a provider read from its cache is reported, stored, shown,
/// summed in the usage history and priced at the model's cached-input rate.
@Suite("Prompt caching at the providers: counted, shown and priced")
struct PromptCacheTests {
    /// The simulator remembers prompts: a conversation's next prompt begins with the previous one.
    static let caching = SimulatorSettings(tokens: 24, delay: .milliseconds(1), promptCache: true)

    static func pricedCatalog() throws -> (ModelCatalog, ModelPrice) {
        let price = try #require(ModelPrice(inputPerMillion: "2.50", outputPerMillion: "10", cachedInputPerMillion: "1.25"))
        var catalog = ModelCatalog()
        catalog.setPrice("sim", price)
        return (catalog, price)
    }

    @Test("a conversation's second turn reads its first prompt from the cache: stored, on done, priced at the cached rate, in the usage history",
          arguments: TestDatabases.backends)
    func secondTurnIsPartlyCached(_ backend: StoreBackend) async throws {
        let (catalog, price) = try Self.pricedCatalog()
        try await Harness.run(simulator: Self.caching, budgets: true, database: backend, catalog: catalog) { h in
            let conversation = try await h.newConversation(h.alice)
            let first = try await h.send(conversation, token: h.alice)
            let firstUsage = try #require(first.final?["usage"] as? [String: Any])
            #expect(firstUsage["cached_input_tokens"] as? Int == 0, "nothing was cached before the first prompt")
            let firstInput = try #require(firstUsage["input_tokens"] as? Int)

            let second = try await h.send(conversation, token: h.alice, body: #"{"content":"And a second question"}"#)
            let usage = try #require(second.final?["usage"] as? [String: Any])
            // The first prompt is cached whole, but for the 3 tokens that prime the reply.
            let cached = firstInput - 3
            #expect(usage["cached_input_tokens"] as? Int == cached)
            let (input, output) = (try #require(usage["input_tokens"] as? Int), try #require(usage["output_tokens"] as? Int))
            #expect(input > firstInput + 24, "the cached part is counted inside the input")
            let expected = price.cost(inputTokens: input, outputTokens: output, cachedInputTokens: cached)
            #expect(expected != price.cost(inputTokens: input, outputTokens: output), "the cached rate is cheaper")
            #expect(second.final?["cost_usd"] as? String == expected.decimalString)

            let stored = try await h.answer(second)
            #expect(stored.usage?.cachedInputTokens == cached && stored.usage?.inputTokens == input)
            #expect(stored.cost == expected)
            // The conversation as the browser reloads it shows the cached part too.
            let shown = try await h.request(.GET, "/api/conversations/\(conversation)", token: h.alice)
            let answer = try #require((shown.json?["messages"] as? [[String: Any]])?.last)
            #expect((answer["usage"] as? [String: Any])?["cached_input_tokens"] as? Int == cached)

            let history = try await h.request(.GET, "/api/usage?period=today&group=model", token: h.alice)
            let totals = try #require(history.json?["totals"] as? [String: Any])
            #expect(totals["cached_input_tokens"] as? Int == cached)
            #expect(totals["input_tokens"] as? Int == firstInput + input)
            // Operators see the hit rate beside the input tokens.
            let metrics = try await h.text("/metrics")
            #expect(metrics.contains("sluice_cached_input_tokens_total{model=\"sim\"} \(cached)"))
            #expect(metrics.contains("sluice_input_tokens_total{model=\"sim\"} \(firstInput + input)"))
        }
    }

    @Test("the OpenAI-compatible gateway reports prompt_tokens_details.cached_tokens, whole and streamed; the Responses API input_tokens_details")
    func gatewayReportsCachedTokens() async throws {
        try await Harness.run(simulator: Self.caching, budgets: true) { h in
            let opening: [[String: Any]] = [["role": "system", "content": "Answer in one line."], ["role": "user", "content": "Hello"]]
            let first = try await h.post("/v1/chat/completions", token: h.alice, json: ["model": "sim", "messages": opening])
            let firstUsage = try #require(Self.object(first.text)?["usage"] as? [String: Any])
            #expect((firstUsage["prompt_tokens_details"] as? [String: Any])?["cached_tokens"] as? Int == 0)
            let choices = Self.object(first.text)?["choices"] as? [[String: Any]]
            let answer = try #require((choices?.first?["message"] as? [String: Any])?["content"] as? String)

            let followUp = opening + [["role": "assistant", "content": answer], ["role": "user", "content": "Thanks"]]
            let streamed = try await h.post("/v1/chat/completions", token: h.alice, json: [
                "model": "sim", "messages": followUp, "stream": true, "stream_options": ["include_usage": true],
            ])
            let usages = streamed.text.split(separator: "\n").compactMap { line -> [String: Any]? in
                guard line.hasPrefix("data: {") else { return nil }
                return Self.object(String(line.dropFirst(6)))?["usage"] as? [String: Any]
            }
            let usageChunk = try #require(usages.last)
            let promptTokens = try #require(firstUsage["prompt_tokens"] as? Int)
            #expect((usageChunk["prompt_tokens_details"] as? [String: Any])?["cached_tokens"] as? Int == promptTokens - 3)

            // The Responses API: the same conversation's next call reads all of it from the cache but the new input.
            let response = try await h.post("/v1/responses", token: h.alice, json: ["model": "sim", "input": "Hello"])
            let responseID = try #require(Self.object(response.text)?["id"] as? String)
            let next = try await h.post("/v1/responses", token: h.alice, json: [
                "model": "sim", "input": "And again", "previous_response_id": responseID,
            ])
            let details = (Self.object(next.text)?["usage"] as? [String: Any])?["input_tokens_details"] as? [String: Any]
            #expect((details?["cached_tokens"] as? Int ?? 0) > 0)
        }
    }

    @Test("Sluice marks prompts for Anthropic's cache; its writes and reads count inside the input, priced at their rates; the Messages gateway splits them out again")
    func anthropicCacheReads() async throws {
        let price = try #require(ModelPrice(
            inputPerMillion: "3", outputPerMillion: "15", cachedInputPerMillion: "0.30", cacheWritePerMillion: "3.75"))
        var catalog = ModelCatalog()
        catalog.setPrice("sim", price)
        try await Harness.run(simulator: Self.caching, budgets: true, catalog: catalog, anthropic: true) { h in
            let conversation = try await h.newConversation(h.alice)
            let first = try await h.send(conversation, token: h.alice)
            let firstUsage = try #require(first.final?["usage"] as? [String: Any])
            let firstInput = try #require(firstUsage["input_tokens"] as? Int)
            // The whole first prompt was marked, so written to the cache (the 3 tokens that prime the reply aside).
            #expect(firstUsage["cache_write_tokens"] as? Int == firstInput - 3)
            #expect(try await h.answer(first).usage?.cacheWriteTokens == firstInput - 3)
            let second = try await h.send(conversation, token: h.alice, body: #"{"content":"Once more please"}"#)
            let stored = try await h.answer(second)
            let usage = try #require(stored.usage)
            #expect(usage.cachedInputTokens == firstInput - 3)
            #expect((usage.cacheWriteTokens ?? 0) > 0, "the new part of the prompt is written for the next turn")
            // The whole prompt, as Sluice counts it (Anthropic's input_tokens leaves the cached part out).
            #expect(usage.inputTokens == usage.countedInputTokens)
            #expect(stored.cost == price.cost(of: usage))

            // Anthropic's own clients see Anthropic's split: input_tokens without the part read from the cache.
            let opening: [[String: Any]] = [["role": "user", "content": "Hello"]]
            let reply = try await AnthropicGatewayTests.call(h, token: h.bob, body: ["model": "sim", "max_tokens": 100, "messages": opening])
            let blocks = Self.object(reply.text)?["content"] as? [[String: Any]]
            let text = try #require(blocks?.first?["text"] as? String)
            let next = try await AnthropicGatewayTests.call(h, token: h.bob, body: [
                "model": "sim", "max_tokens": 100,
                "messages": opening + [["role": "assistant", "content": text], ["role": "user", "content": "More"]],
            ])
            let split = try #require(Self.object(next.text)?["usage"] as? [String: Any])
            let read = try #require(split["cache_read_input_tokens"] as? Int)
            let written = try #require(split["cache_creation_input_tokens"] as? Int)
            #expect(read > 0 && written > 0)
            let nextConversation = try #require(next.headers.first(name: "X-Sluice-Conversation-Id"))
            let nextAnswer = try #require(try await h.store.messages(conversationID: nextConversation).last)
            #expect(split["input_tokens"] as? Int == (nextAnswer.usage?.inputTokens ?? 0) - read - written)
        }
    }

    static func object(_ text: String) -> [String: Any]? {
        try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
    }
}
