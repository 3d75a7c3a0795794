import Foundation
import SluiceCore
import SluiceTestSupport
import Testing
@testable import SluiceStore

/// `user_token_limits.tokens_held` (schema step 14): the count a hold reads instead of summing every live hold of
/// its user. Each test compares it with that sum, read straight from the ledger, after every kind of change.
@Suite("Held tokens")
struct HeldTokensTests {
    /// The user's count, and the sum it stands for (every `held` row, expired or not).
    static func counted(_ user: User, in store: any SluiceDatabase) async throws -> (count: Int, sum: Int) {
        let count = try await StoreTests.column(
            "n", of: "SELECT CAST(tokens_held AS TEXT) AS n FROM user_token_limits WHERE user_id = '\(user.id)'", in: store)
        let sum = try await StoreTests.column(
            "n",
            of: "SELECT CAST(COALESCE(SUM(reserved_tokens), 0) AS TEXT) AS n FROM token_usage WHERE user_id = '\(user.id)' AND state = 'held'",
            in: store)
        return (Int(count.first ?? "") ?? -1, Int(sum.first ?? "") ?? -1)
    }

    @Test("the count follows holds granted and refused, settles, releases and a crash's recovery", arguments: TestDatabases.backends)
    func followsEveryChange(_ backend: StoreBackend) async throws {
        let (store, location, user, conversationID) = try await BudgetStoreTests.setUp(backend, limit: 10_000)
        let now = Date()
        let first = try #require(try await store.hold(BudgetStoreTests.request(user, conversationID, input: 100, output: 900), now: now))
        let second = try #require(try await store.hold(BudgetStoreTests.request(user, conversationID, input: 10, output: 90), now: now))
        #expect(try await Self.counted(user, in: store) == (1100, 1100))
        // Settled for what it used, released when it generated nothing; a refused hold adds nothing.
        try await store.settle(holdID: first.id, inputTokens: 100, outputTokens: 20, cost: .zero, now: now)
        #expect(try await Self.counted(user, in: store) == (100, 100))
        try await store.settle(holdID: second.id, inputTokens: 0, outputTokens: 0, cost: .zero, now: now)
        #expect(try await Self.counted(user, in: store) == (0, 0))
        #expect(try await store.hold(BudgetStoreTests.request(user, conversationID, input: 20_000, output: 1), now: now) == nil)
        #expect(try await Self.counted(user, in: store) == (0, 0))

        // 300 at once, then all settled at once.
        let holds = try await withThrowingTaskGroup(of: BudgetHold?.self) { group in
            for _ in 0..<300 {
                group.addTask { try await store.hold(BudgetStoreTests.request(user, conversationID, input: 5, output: 25), now: now) }
            }
            return try await group.reduce(into: [BudgetHold]()) { if let hold = $1 { $0.append(hold) } }
        }
        #expect(holds.count == 300)
        #expect(try await Self.counted(user, in: store) == (9000, 9000))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for hold in holds {
                group.addTask { try await store.settle(holdID: hold.id, inputTokens: 5, outputTokens: 1, cost: .zero, now: now) }
            }
            try await group.waitForAll()
        }
        #expect(try await Self.counted(user, in: store) == (0, 0))
        #expect(try await store.budget(userID: user.id, now: now).used == 120 + 300 * 6)

        // A hold whose answer was being written when Sluice stopped is released at the next start.
        let answer = Message(
            id: Identifier.make(), conversationID: conversationID, role: .assistant, content: "", status: .streaming,
            model: "m", createdAt: now)
        var request = BudgetStoreTests.request(user, conversationID, input: 10, output: 40)
        request.messageID = answer.id
        request.answer = answer
        _ = try #require(try await store.hold(request, now: now))
        #expect(try await Self.counted(user, in: store) == (50, 50))
        try await store.close()
        let reopened = try await SluiceDatabases.open(location)
        try await reopened.migrate()
        #expect(try await reopened.recoverInterruptedMessages() == 1)
        #expect(try await Self.counted(user, in: reopened) == (0, 0))
        try await reopened.close()
    }

    @Test("an expired hold stops counting at its expiry, with nothing sweeping it", arguments: TestDatabases.backends)
    func expiredHoldsStopCounting(_ backend: StoreBackend) async throws {
        let (store, _, user, conversationID) = try await BudgetStoreTests.setUp(backend, limit: 1000)
        let now = Date()
        var request = BudgetStoreTests.request(user, conversationID, input: 100, output: 900)
        request.expiresAfter = 60
        let stale = try #require(try await store.hold(request, now: now))
        #expect(stale.reservedTokens == 1000)
        // While it lives the budget is spent; once it has expired it no longer counts, though it is still `held`.
        #expect(try await store.hold(BudgetStoreTests.request(user, conversationID, input: 1, output: 1), now: now.addingTimeInterval(59)) == nil)
        let later = now.addingTimeInterval(61)
        #expect(try await store.budget(userID: user.id, now: later).used == 0)
        #expect(try await store.hold(BudgetStoreTests.request(user, conversationID, input: 100, output: 500), now: later)?.reservedTokens == 600)
        #expect(try await store.hold(BudgetStoreTests.request(user, conversationID, input: 100, output: 500), now: later)?.reservedTokens == 400)
        #expect(try await Self.counted(user, in: store) == (2000, 2000))
        // Settled late after all, it takes its own reservation off the count and charges what it used.
        try await store.settle(holdID: stale.id, inputTokens: 100, outputTokens: 50, cost: .zero, now: later)
        #expect(try await Self.counted(user, in: store) == (1000, 1000))
        #expect(try await store.budget(userID: user.id, now: later).used == 1150)
        try await store.close()
    }
}
