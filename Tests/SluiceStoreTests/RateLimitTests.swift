import Foundation
import SluiceCore
import SluiceTestSupport
import Testing
@testable import SluiceStore

/// Schema step 19: a user's limits of requests and tokens per minute, enforced by the hold over the last 60 seconds.
@Suite("Limits per minute")
struct RateLimitTests {
    /// A new database with one unlimited user and a conversation of theirs: the limits per minute are the only ones.
    static func service(_ backend: StoreBackend) async throws -> (any SluiceDatabase, User, String) {
        let (store, _) = try await TestDatabases.makeStore(backend)
        try await store.migrate()
        let user = try await store.createUser(name: "service", plan: .unlimited, tokenHash: "h")
        let conversation = Conversation.starting(userID: user.id, title: "API", model: "m", systemPrompt: nil)
        try await store.createConversation(conversation, messages: [])
        return (store, user, conversation.id)
    }

    static func hold(_ store: any SluiceDatabase, _ user: User, _ conversationID: String, input: Int = 10, output: Int = 10, at now: Date) async throws -> BudgetHold? {
        try await store.hold(BudgetStoreTests.request(user, conversationID, input: input, output: output), now: now)
    }

    @Test("requests per minute: the limit's worth of holds, then refusals until the oldest leaves the window",
          arguments: TestDatabases.backends)
    func requestsPerMinute(_ backend: StoreBackend) async throws {
        let (store, user, conversation) = try await Self.service(backend)
        let start = Date(timeIntervalSince1970: (Date().timeIntervalSince1970).rounded(.down))
        #expect(try await store.budget(userID: user.id, now: start).rateLimits == nil)
        #expect(try await Self.hold(store, user, conversation, at: start.addingTimeInterval(-120))?.rateLimits == nil)
        try await store.setRateLimit(.requests, userID: user.id, limit: 2)

        // Each granted hold says the limits' use with itself counted (the gateway's x-ratelimit-* headers).
        let first = try #require(try await Self.hold(store, user, conversation, at: start))
        #expect(first.rateLimits == RateLimits(
            requestsPerMinute: 2, tokensPerMinute: nil, requests: 1, tokens: 0, oldestLeavesAt: start.addingTimeInterval(60)))
        let second = try #require(try await Self.hold(store, user, conversation, at: start.addingTimeInterval(10)))
        #expect(second.rateLimits?.requests == 2 && second.rateLimits?.remaining(.requests) == 0)
        #expect(second.rateLimits?.oldestLeavesAt == start.addingTimeInterval(60))
        // A settled or released turn was still a request of this minute.
        try await store.settle(holdID: first.id, inputTokens: 0, outputTokens: 0, cost: .zero, now: start.addingTimeInterval(11))
        #expect(try await Self.hold(store, user, conversation, at: start.addingTimeInterval(20)) == nil)
        let state = try #require(try await store.budget(userID: user.id, now: start.addingTimeInterval(20)).rateLimits)
        #expect(state.requestsPerMinute == 2 && state.tokensPerMinute == nil && state.requests == 2)
        #expect(state.exceeded(needing: 11) == .requests)
        #expect(state.oldestLeavesAt == start.addingTimeInterval(60))
        // A minute after the first request it has left the window; the second has not.
        #expect(try await Self.hold(store, user, conversation, at: start.addingTimeInterval(60.001)) != nil)
        #expect(try await Self.hold(store, user, conversation, at: start.addingTimeInterval(61)) == nil)

        try await store.setRateLimit(.requests, userID: user.id, limit: nil)
        #expect(try await Self.hold(store, user, conversation, at: start.addingTimeInterval(62)) != nil)
        #expect(try await store.budget(userID: user.id, now: start.addingTimeInterval(62)).rateLimits == nil)
        try await store.close()
    }

    @Test("tokens per minute count running holds at what they reserve and settled turns at what they used",
          arguments: TestDatabases.backends)
    func tokensPerMinute(_ backend: StoreBackend) async throws {
        let (store, user, conversation) = try await Self.service(backend)
        let now = Date()
        try await store.setRateLimit(.tokens, userID: user.id, limit: 100)
        // 60 + 30 held: 90 of 100; a turn needs its input and one output token.
        let running = try #require(try await Self.hold(store, user, conversation, input: 60, output: 30, at: now))
        #expect(running.rateLimits?.tokens == 90 && running.rateLimits?.remaining(.tokens) == 10)
        // The limit per minute refuses rather than caps: 9 input + 1 fit, 10 + 1 do not.
        #expect(try await Self.hold(store, user, conversation, input: 10, output: 500, at: now) == nil)
        let small = try #require(try await Self.hold(store, user, conversation, input: 9, output: 500, at: now))
        #expect(small.reservedTokens == 509 && small.outputAllowance == nil)
        try await store.settle(holdID: small.id, inputTokens: 9, outputTokens: 1, cost: .zero, now: now)
        // The running turn ends having used 40 tokens: 40 + 10 of 100.
        try await store.settle(holdID: running.id, inputTokens: 20, outputTokens: 20, cost: .zero, now: now)
        let state = try #require(try await store.budget(userID: user.id, now: now).rateLimits)
        #expect(state.tokens == 50 && state.requests == 2 && state.tokensPerMinute == 100 && state.requestsPerMinute == nil)
        #expect(state.exceeded(needing: 50) == nil && state.exceeded(needing: 51) == .tokens)
        #expect(try await Self.hold(store, user, conversation, input: 49, output: 1, at: now) != nil)
        #expect(try await Self.hold(store, user, conversation, input: 1, output: 1, at: now) == nil)
        try await store.close()
    }

    @Test("answers at once: live holds count, a settled or expired one does not", arguments: TestDatabases.backends)
    func parallelRequests(_ backend: StoreBackend) async throws {
        let (store, user, conversation) = try await Self.service(backend)
        let now = Date()
        try await store.setRateLimit(.parallel, userID: user.id, limit: 2)
        let first = try #require(try await Self.hold(store, user, conversation, at: now))
        #expect(first.rateLimits?.running == 1 && first.rateLimits?.maxParallel == 2)
        var short = BudgetStoreTests.request(user, conversation, input: 10, output: 10)
        short.expiresAfter = 30
        #expect(try await store.hold(short, now: now) != nil)
        #expect(try await Self.hold(store, user, conversation, at: now) == nil)
        let state = try #require(try await store.budget(userID: user.id, now: now).rateLimits)
        #expect(state.maxParallel == 2 && state.running == 2 && state.requestsPerMinute == nil && state.exceeded(needing: 1) == .parallel)
        // One answer ends: a place is free again.
        try await store.settle(holdID: first.id, inputTokens: 10, outputTokens: 3, cost: .zero, now: now)
        _ = try #require(try await Self.hold(store, user, conversation, at: now.addingTimeInterval(1)))
        #expect(try await Self.hold(store, user, conversation, at: now.addingTimeInterval(2)) == nil)
        // A crashed turn's hold stops counting once it has expired.
        #expect(try await Self.hold(store, user, conversation, at: now.addingTimeInterval(31)) != nil)
        #expect(try await store.budget(userID: user.id, now: now.addingTimeInterval(31)).rateLimits?.running == 2)
        try await store.close()
    }

    @Test("an n call's answers after the first count in the tokens a minute, but neither as requests nor as running ones",
          arguments: TestDatabases.backends)
    func extraAnswers(_ backend: StoreBackend) async throws {
        let (store, user, conversation) = try await Self.service(backend)
        let now = Date()
        try await store.setRateLimit(.parallel, userID: user.id, limit: 1)
        try await store.setRateLimit(.requests, userID: user.id, limit: 2)
        try await store.setRateLimit(.tokens, userID: user.id, limit: 100)
        func answer(extra: Bool, input: Int = 10) -> HoldRequest {
            var request = BudgetStoreTests.request(user, conversation, input: input, output: 10)
            request.extraAnswer = extra
            return request
        }
        // A call for three answers: its first is the request and the running one; the two others come on top of
        // the one answer at once allowed, and say the use without themselves as a request.
        let first = try #require(try await store.hold(answer(extra: false), now: now))
        #expect(first.rateLimits?.running == 1 && first.rateLimits?.requests == 1 && first.rateLimits?.tokens == 20)
        let second = try #require(try await store.hold(answer(extra: true), now: now))
        #expect(second.rateLimits?.running == 1 && second.rateLimits?.requests == 1 && second.rateLimits?.tokens == 40)
        _ = try #require(try await store.hold(answer(extra: true), now: now))
        let state = try #require(try await store.budget(userID: user.id, now: now).rateLimits)
        #expect(state.running == 1 && state.requests == 1 && state.tokens == 60, "\(state)")
        // Another call's first answer is one answer too many at once; once the call has ended, one more request fits.
        #expect(try await store.hold(answer(extra: false), now: now) == nil)
        try await store.settle(holdID: first.id, inputTokens: 10, outputTokens: 10, cost: .zero, now: now)
        // The tokens a minute still hold an answer after the first to them: 40 held and 20 used leave 40.
        #expect(try await store.hold(answer(extra: true, input: 40), now: now) == nil)
        #expect(try await store.hold(answer(extra: false), now: now) != nil)
        let after = try #require(try await store.budget(userID: user.id, now: now).rateLimits)
        #expect(after.running == 1 && after.requests == 2 && after.exceeded(needing: 1) == .parallel, "\(after)")
        try await store.close()
    }

    @Test("100 concurrent holds under 10 requests a minute: exactly 10 are granted", arguments: TestDatabases.backends)
    func concurrentHolds(_ backend: StoreBackend) async throws {
        let (store, user, conversation) = try await Self.service(backend)
        try await store.setRateLimit(.requests, userID: user.id, limit: 10)
        let now = Date()
        let granted = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0 ..< 100 { group.addTask { try await Self.hold(store, user, conversation, at: now) != nil } }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(granted == 10)
        #expect(try await store.budget(userID: user.id, now: now).rateLimits?.requests == 10)
        try await store.close()
    }
}
