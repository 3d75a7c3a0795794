import Foundation
import SluiceCore
import SluiceTestSupport
import Testing
@testable import SluiceStore

/// `response_cache` (schema step 28): what is kept is read back whole until it expires, a later write replaces it, and
/// each write drops what has expired.
@Suite("Response cache store")
struct ResponseCacheStoreTests {
    @Test("kept until it expires, replaced by a later write, expired rows dropped on write, cleared by model or all, gone with its user", arguments: TestDatabases.backends)
    func keepsAndExpires(_ backend: StoreBackend) async throws {
        let (store, _) = try await TestDatabases.makeStore(backend)
        let alice = try await store.createUser(name: "alice", plan: .free, tokenHash: UUID().uuidString)
        let bob = try await store.createUser(name: "bob", plan: .free, tokenHash: UUID().uuidString)
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let answer = CachedResponse(
            model: "m", content: "Héllo, wörld 😀", tokenEnds: [6, 14, 19],
            toolCalls: [ToolCall(id: "call_1", name: "get_time", arguments: #"{"tz":"UTC"}"#)], finishReason: "tool_calls",
            inputTokens: 12, outputTokens: 3)
        try await store.cacheResponse(answer, key: "a", userID: alice.id, now: now, expiresAt: now.addingTimeInterval(60))
        #expect(try await store.cachedResponse(key: "a", now: now) == answer)
        #expect(try await store.cachedResponse(key: "a", now: now.addingTimeInterval(59.999)) == answer)
        #expect(try await store.cachedResponse(key: "a", now: now.addingTimeInterval(60)) == nil)
        #expect(try await store.cachedResponse(key: "b", now: now) == nil)
        // A caller's max-age: only what was written since.
        #expect(try await store.cachedResponse(key: "a", now: now.addingTimeInterval(10), writtenSince: now) == answer)
        #expect(try await store.cachedResponse(key: "a", now: now.addingTimeInterval(10), writtenSince: now.addingTimeInterval(0.001)) == nil)

        var newer = answer
        newer.content = "Hi"
        newer.tokenEnds = [2]
        newer.toolCalls = []
        newer.outputTokens = nil
        try await store.cacheResponse(newer, key: "a", userID: alice.id, now: now.addingTimeInterval(30), expiresAt: now.addingTimeInterval(90))
        #expect(try await store.cachedResponse(key: "a", now: now.addingTimeInterval(80)) == newer)

        // A write after "a" expired drops its row.
        try await store.cacheResponse(answer, key: "b", userID: alice.id, now: now.addingTimeInterval(100), expiresAt: now.addingTimeInterval(200))
        #expect(try await StoreTests.column("cache_key", of: "SELECT cache_key FROM response_cache", in: store) == ["b"])

        // Cleared by model, or all at once.
        var other = answer
        other.model = "n"
        try await store.cacheResponse(other, key: "c", userID: bob.id, now: now.addingTimeInterval(100), expiresAt: now.addingTimeInterval(200))
        #expect(try await store.clearCachedResponses(model: "m") == 1)
        #expect(try await store.cachedResponse(key: "b", now: now.addingTimeInterval(100)) == nil)
        #expect(try await store.cachedResponse(key: "c", now: now.addingTimeInterval(100)) == other)
        try await store.cacheResponse(answer, key: "b", userID: alice.id, now: now.addingTimeInterval(100), expiresAt: now.addingTimeInterval(200))
        #expect(try await store.clearCachedResponses(model: nil) == 2)
        #expect(try await store.clearCachedResponses(model: nil) == 0)

        // An entry goes with the user whose call it answered.
        try await store.cacheResponse(answer, key: "d", userID: bob.id, now: now, expiresAt: now.addingTimeInterval(60))
        try await store.cacheResponse(answer, key: "e", userID: alice.id, now: now, expiresAt: now.addingTimeInterval(60))
        _ = try await StoreTests.column("x", of: "DELETE FROM users WHERE name = 'bob'", in: store)
        #expect(try await store.cachedResponse(key: "d", now: now) == nil)
        #expect(try await store.cachedResponse(key: "e", now: now) == answer)
        try await store.close()
    }

    @Test("an answer from the cache settles as charged nothing, and the history counts it with what it saved", arguments: TestDatabases.backends)
    func savings(_ backend: StoreBackend) async throws {
        let (store, _, user, conversationID) = try await BudgetStoreTests.setUp(backend, limit: 10_000)
        let now = Date()
        let price = try #require(ModelPrice(inputPerMillion: "1", outputPerMillion: "2"))
        let paid = try #require(try await store.hold(BudgetStoreTests.request(user, conversationID, input: 100, output: 500, price: price), now: now))
        try await store.settle(holdID: paid.id, inputTokens: 100, outputTokens: 20, cost: price.cost(inputTokens: 100, outputTokens: 20), now: now)
        // The same call again, answered from the cache: nothing charged, the paid call's tokens and cost saved.
        let hit = try #require(try await store.hold(BudgetStoreTests.request(user, conversationID, input: 100, output: 500, price: price), now: now))
        let saved = CacheSavings(tokens: 120, cost: price.cost(inputTokens: 100, outputTokens: 20))
        try await store.settle(holdID: hit.id, inputTokens: 0, outputTokens: 0, cost: .zero, now: now, finishing: nil, saved: saved)
        // A turn that produced nothing is still released, not counted.
        let nothing = try #require(try await store.hold(BudgetStoreTests.request(user, conversationID, input: 5, output: 5), now: now))
        try await store.settle(holdID: nothing.id, inputTokens: 0, outputTokens: 0, cost: .zero, now: now)

        let budget = try await store.budget(userID: user.id, now: now)
        #expect(budget.used == 120)
        #expect(try await store.conversationTokens(conversationID: conversationID) == 120)
        let byModel = try await store.usageHistory(userID: user.id, since: now.addingTimeInterval(-60), groupedBy: .model)
        #expect(byModel == [UsageBucket(
            key: "m", label: nil, inputTokens: 100, outputTokens: 20, totalTokens: 120, cost: USDAmount(picodollars: 140_000_000),
            turns: 2, lastTurnAt: byModel.first?.lastTurnAt, cacheHits: 1, savedTokens: 120,
            savedCost: USDAmount(picodollars: 140_000_000))])
        // Settling the hit again changes nothing.
        try await store.settle(holdID: hit.id, inputTokens: 0, outputTokens: 0, cost: .zero, now: now, finishing: nil, saved: saved)
        #expect(try await store.usageHistory(userID: user.id, since: now.addingTimeInterval(-60), groupedBy: .day).first?.cacheHits == 1)
        try await store.close()
    }
}
