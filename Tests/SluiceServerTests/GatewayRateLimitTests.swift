import Foundation
import SluiceCore
import SluiceStore
import SluiceTestSupport
import Testing

@Suite("Gateway limits per minute: 429 rate_limit_exceeded with OpenAI's headers")
struct GatewayRateLimitTests {
    @Test("over its requests a minute a user gets a 429 that says when to retry; another user goes on",
          arguments: TestDatabases.backends)
    func requestsPerMinute(database: StoreBackend) async throws {
        try await Harness.run(budgets: true, database: database) { h in
            let alice = try #require(try await h.store.user(named: "alice"))
            try await h.store.setRateLimit(.requests, userID: alice.id, limit: 2)
            var replies: [Harness.Reply] = []
            for _ in 0 ..< 3 { replies.append(try await GatewayEndUserTests.call(h, messages: [("user", "hello")])) }
            #expect(replies.map(\.status) == [200, 200, 429])
            // Granted calls say what is left, as OpenAI's do, with the call itself counted.
            #expect(replies.map { $0.headers.first(name: "x-ratelimit-limit-requests") } == ["2", "2", "2"])
            #expect(replies.map { $0.headers.first(name: "x-ratelimit-remaining-requests") } == ["1", "0", "0"])
            let reset = try #require(replies[0].headers.first(name: "x-ratelimit-reset-requests"))
            #expect(reset.hasSuffix("s") && (1 ... 60).contains(Int(reset.dropLast()) ?? 0), "\(reset)")
            #expect(replies[0].headers.first(name: "x-ratelimit-limit-tokens") == nil)
            let refused = try await GatewayEndUserTests.call(h, messages: [("user", "hello")])
            #expect(refused.status == 429)
            let error = try #require(refused.json?["error"] as? [String: Any])
            #expect(error["code"] as? String == "rate_limit_exceeded" && error["type"] as? String == "rate_limit_error")
            #expect(refused.errorMessage?.contains("You have sent 2 requests in the last minute") == true, "\(refused.errorMessage ?? "-")")
            let rateLimit = try #require(error["rate_limit"] as? [String: Any])
            #expect(rateLimit["limit"] as? String == "requests" && rateLimit["requests"] as? Int == 2)
            // Back within the minute: the SDKs may retry (no x-should-retry: false), after Retry-After.
            let retryAfter = try #require(refused.headers.first(name: "Retry-After").flatMap { Int($0) })
            #expect((1 ... 60).contains(retryAfter))
            #expect(refused.headers.first(name: "x-should-retry") == nil)
            #expect(refused.headers.first(name: "x-ratelimit-limit-requests") == "2")
            #expect(refused.headers.first(name: "x-ratelimit-remaining-requests") == "0")
            #expect(refused.headers.first(name: "x-ratelimit-reset-requests") == "\(retryAfter)s")
            #expect(refused.headers.first(name: "x-ratelimit-limit-tokens") == nil)

            let limits = try await h.request(.GET, "/api/usage/limits", token: h.alice)
            #expect(limits.json?["requests_per_minute"] as? Int == 2)
            #expect(limits.json?["tokens_per_minute"] is NSNull)
            // Bob has no such limit.
            let bobs = try await h.request(
                .POST, "/v1/chat/completions", token: h.bob, body: #"{"model":"sim","messages":[{"role":"user","content":"hi"}]}"#)
            #expect(bobs.status == 200 && bobs.headers.first(name: "x-ratelimit-limit-requests") == nil)
            // Operators see refusals by code: the third call and the one after it.
            #expect(try await h.text("/metrics").contains("sluice_api_errors_total{code=\"rate_limit_exceeded\"} 2"))
        }
    }

    @Test("over its answers at once a user is told to try again when one has finished", arguments: TestDatabases.backends)
    func parallelRequests(database: StoreBackend) async throws {
        try await Harness.run(budgets: true, database: database) { h in
            let alice = try #require(try await h.store.user(named: "alice"))
            try await h.store.setRateLimit(.parallel, userID: alice.id, limit: 1)
            #expect(try await GatewayEndUserTests.call(h, messages: [("user", "hello")]).status == 200)
            // A running answer is a live hold: one held as a turn of Alice's in another conversation would.
            let running = Conversation.starting(userID: alice.id, title: "running", model: "sim", systemPrompt: nil)
            try await h.store.createConversation(running, messages: [])
            let hold = try #require(try await h.store.hold(
                HoldRequest(userID: alice.id, conversationID: running.id, messageID: Identifier.make(), model: "sim",
                            inputTokens: 5, wantedOutput: 50, price: .free), now: Date()))
            let refused = try await GatewayEndUserTests.call(h, messages: [("user", "hello")])
            #expect(refused.status == 429)
            #expect(refused.errorMessage?.contains("You have 1 answer running at once, the most your account may have (1)") == true,
                    "\(refused.errorMessage ?? "-")")
            #expect(refused.headers.first(name: "Retry-After") == "1")
            #expect(refused.headers.first(name: "x-ratelimit-limit-requests") == nil)
            let rateLimit = try #require((refused.json?["error"] as? [String: Any])?["rate_limit"] as? [String: Any])
            #expect(rateLimit["limit"] as? String == "parallel" && rateLimit["running"] as? Int == 1)
            let limits = try await h.request(.GET, "/api/usage/limits", token: h.alice)
            #expect(limits.json?["max_parallel_requests"] as? Int == 1 && limits.json?["running_requests"] as? Int == 1)
            #expect(limits.json?["requests_last_minute"] is NSNull)
            try await h.store.settle(holdID: hold.id, inputTokens: 5, outputTokens: 5, cost: .zero, now: Date())
            #expect(try await GatewayEndUserTests.call(h, messages: [("user", "hello")]).status == 200)
        }
    }

    @Test("a message that does not fit in the tokens a minute is refused naming both numbers")
    func tokensPerMinute() async throws {
        try await Harness.run(budgets: true) { h in
            let alice = try #require(try await h.store.user(named: "alice"))
            try await h.store.setRateLimit(.tokens, userID: alice.id, limit: 3)
            let refused = try await GatewayEndUserTests.call(h, messages: [("user", "hello there, how are you today?")])
            #expect(refused.status == 429)
            #expect(refused.errorMessage?.contains("Your account has used 0 of its 3 tokens a minute") == true, "\(refused.errorMessage ?? "-")")
            #expect(refused.headers.first(name: "x-ratelimit-limit-tokens") == "3")
            #expect(refused.headers.first(name: "x-ratelimit-remaining-tokens") == "3")
            #expect(refused.headers.first(name: "x-ratelimit-limit-requests") == nil)
            // A granted call counts what its hold reserved (the input and the output allowance) as the minute's.
            try await h.store.setRateLimit(.tokens, userID: alice.id, limit: 100_000)
            let granted = try await GatewayEndUserTests.call(h, messages: [("user", "hello")])
            #expect(granted.status == 200 && granted.headers.first(name: "x-ratelimit-limit-tokens") == "100000")
            let remaining = try #require(granted.headers.first(name: "x-ratelimit-remaining-tokens").flatMap { Int($0) })
            let limits = try await h.request(.GET, "/api/usage/limits", token: h.alice)
            #expect(remaining < 100_000 - 2 && limits.json?["tokens_last_minute"] as? Int ?? 0 > 0)
            try await h.store.setRateLimit(.tokens, userID: alice.id, limit: nil)
            let unlimited = try await GatewayEndUserTests.call(h, messages: [("user", "hello")])
            #expect(unlimited.status == 200 && unlimited.headers.first(name: "x-ratelimit-limit-tokens") == nil)
        }
    }
}
