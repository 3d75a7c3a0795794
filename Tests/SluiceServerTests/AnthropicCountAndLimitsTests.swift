import AsyncHTTPClient
import Foundation
import NIOHTTP1
import SluiceCore
import SluiceStore
import SluiceTestSupport
import Testing

@Suite("Anthropic's token counting and rate-limit headers: POST /v1/messages/count_tokens, anthropic-ratelimit-*")
struct AnthropicCountAndLimitsTests {
    static func countTokens(_ h: Harness, token: String, body: [String: Any]) async throws -> (status: Int, headers: HTTPHeaders, text: String) {
        try await AnthropicGatewayTests.call(h, token: token, path: "/v1/messages/count_tokens", body: body)
    }

    static var tools: [[String: Any]] { [[
        "name": "get_weather", "description": "The weather in a city today",
        "input_schema": ["type": "object", "properties": ["city": ["type": "string"]], "required": ["city"]],
    ]] }

    @Test("the count is the one the budget hold makes of the same message, and counting stores and charges nothing",
          arguments: TestDatabases.backends)
    func countMatchesTheHold(database: StoreBackend) async throws {
        try await Harness.run(budgets: true, database: database) { h in
            let messages: [[String: Any]] = [
                ["role": "user", "content": "What is the weather like in Lisbon?"],
                ["role": "assistant", "content": [["type": "text", "text": "Sunny and warm, about twenty degrees."]]],
                ["role": "user", "content": "And tomorrow in Porto, if you can say?"],
            ]
            let base: [String: Any] = ["model": "sim", "system": "Answer in one short sentence.", "messages": messages, "tools": Self.tools]
            let counted = try await Self.countTokens(h, token: h.alice, body: base)
            #expect(counted.status == 200, "\(counted.text)")
            let count = try #require(AnthropicGatewayTests.object(counted.text)?["input_tokens"] as? Int)
            #expect(AnthropicGatewayTests.object(counted.text)?.count == 1)
            #expect(try await h.store.conversations(userID: try #require(try await h.store.user(named: "alice")).id).isEmpty)

            // The same body sent as a message: `message_start` says the input as the hold counted it.
            var sent = base
            sent["max_tokens"] = 100
            sent["stream"] = true
            let reply = try await AnthropicGatewayTests.call(h, token: h.alice, body: sent)
            #expect(reply.status == 200)
            var parser = SSEParser()
            let start = try #require(parser.feed(Array(reply.text.utf8)[...]).first)
            let usage = try #require((AnthropicGatewayTests.object(start.data)?["message"] as? [String: Any])?["usage"] as? [String: Any])
            #expect(usage["input_tokens"] as? Int == count)

            // Each part counts: without the tools, or without the system prompt, there is less to count.
            var withoutTools = base
            withoutTools["tools"] = nil
            var withoutSystem = base
            withoutSystem["system"] = nil
            for smaller in [withoutTools, withoutSystem] {
                let fewer = try await Self.countTokens(h, token: h.alice, body: smaller)
                let smallerCount = try #require(AnthropicGatewayTests.object(fewer.text)?["input_tokens"] as? Int)
                #expect(smallerCount < count && smallerCount > 0)
            }
        }
    }

    @Test("counting is outside the rate limits, and a bad body, an unknown or forbidden model get Anthropic's errors")
    func refusals() async throws {
        try await Harness.run(budgets: true) { h in
            let alice = try #require(try await h.store.user(named: "alice"))
            try await h.store.setRateLimit(.requests, userID: alice.id, limit: 1)
            let hello: [String: Any] = ["model": "sim", "messages": [["role": "user", "content": "Hello"]]]
            for _ in 0 ..< 3 { #expect(try await Self.countTokens(h, token: h.alice, body: hello).status == 200) }
            var message = hello
            message["max_tokens"] = 50
            #expect(try await AnthropicGatewayTests.call(h, token: h.alice, body: message).status == 200)

            let cases: [(body: [String: Any], status: Int, type: String, says: String)] = [
                (["model": "sim", "messages": [[String: Any]]()], 400, "invalid_request_error", "'messages' must list"),
                (["model": "no-such-model", "messages": hello["messages"]!], 404, "not_found_error", "'no-such-model' does not exist"),
            ]
            for (body, status, type, says) in cases {
                let reply = try await Self.countTokens(h, token: h.alice, body: body)
                let error = try #require(AnthropicGatewayTests.object(reply.text)?["error"] as? [String: Any])
                #expect(reply.status == status && error["type"] as? String == type)
                #expect((error["message"] as? String)?.contains(says) == true, "\(reply.text)")
            }
            #expect(try await Self.countTokens(h, token: "not-a-token", body: hello).status == 401)
            // Bob has made no call yet, so no cached sign-in outlives the change.
            try await h.store.setAllowedModels(userID: try #require(try await h.store.user(named: "bob")).id, models: ["other"])
            let forbidden = try await Self.countTokens(h, token: h.bob, body: hello)
            #expect(forbidden.status == 403 && forbidden.text.contains("permission_error"), "\(forbidden.text)")
        }
    }

    @Test("a message says the user's limits in Anthropic's headers too, and so does a refusal")
    func rateLimitHeaders() async throws {
        try await Harness.run(budgets: true) { h in
            let alice = try #require(try await h.store.user(named: "alice"))
            try await h.store.setRateLimit(.requests, userID: alice.id, limit: 1)
            let body: [String: Any] = ["model": "sim", "max_tokens": 50, "messages": [["role": "user", "content": "Hello"]]]
            let before = Date()
            let granted = try await AnthropicGatewayTests.call(h, token: h.alice, body: body)
            let refused = try await AnthropicGatewayTests.call(h, token: h.alice, body: body)
            let refusedAt = Date()
            #expect(granted.status == 200 && refused.status == 429)
            for reply in [granted, refused] {
                #expect(reply.headers.first(name: "anthropic-ratelimit-requests-limit") == "1")
                #expect(reply.headers.first(name: "anthropic-ratelimit-requests-remaining") == "0")
                // OpenAI's stay for clients built on them.
                #expect(reply.headers.first(name: "x-ratelimit-limit-requests") == "1")
                #expect(reply.headers.first(name: "anthropic-ratelimit-tokens-limit") == nil)
                let reset = try #require(reply.headers.first(name: "anthropic-ratelimit-requests-reset"))
                let at = try #require(try? Date(reset, strategy: .iso8601), "\(reset)")
                #expect(at > before && at <= Date().addingTimeInterval(61), "\(reset)")
            }
            let retryAfter = try #require(refused.headers.first(name: "retry-after").flatMap { Int($0) })
            let reset = try #require(refused.headers.first(name: "anthropic-ratelimit-requests-reset").flatMap { try? Date($0, strategy: .iso8601) })
            // Both say the same moment: it lies Retry-After seconds (rounded up; the date to the second) after the refusal, which came between
            // `before` and `refusedAt` (however slow a loaded machine made the calls).
            #expect(reset.timeIntervalSince(before) >= Double(retryAfter) - 2, "\(reset) \(retryAfter)")
            #expect(reset.timeIntervalSince(refusedAt) <= Double(retryAfter), "\(reset) \(retryAfter)")
        }
    }
}
