import Foundation
import SluiceCore
import SluiceTestSupport
import Testing
@testable import SluiceStore

/// `daily_spending` (schema step 15): the counts a hold reads instead of summing the day's ledger. Each test
/// compares them with those sums, read straight from `token_usage`, and checks what the budget reports.
@Suite("Daily spending")
struct DailySpendingTests {
    /// $1 per million input tokens, $2 per million output: 1 000 000 and 2 000 000 picodollars a token.
    static let price = ModelPrice(inputPerMillion: "1", outputPerMillion: "2")!

    /// Every (day, user) count, and the same figures summed from the ledger, as sorted lines.
    static func counted(in store: any SluiceDatabase) async throws -> (counts: [String], sums: [String]) {
        let counts = try await StoreTests.column(
            "line",
            of: """
                SELECT CAST(day_start AS TEXT) || ' ' || user_id || ' ' || CAST(spent_picousd AS TEXT) || ' '
                    || CAST(held_picousd AS TEXT) AS line
                FROM daily_spending WHERE spent_picousd <> 0 OR held_picousd <> 0
                """, in: store)
        let sums = try await StoreTests.column(
            "line",
            of: """
                SELECT CAST(day AS TEXT) || ' ' || user_id || ' ' || CAST(spent AS TEXT) || ' ' || CAST(held AS TEXT) AS line
                FROM (
                    SELECT created_at - created_at % 86400000 AS day, user_id,
                        SUM(CASE WHEN state = 'settled' THEN cost_picousd ELSE 0 END) AS spent,
                        SUM(CASE WHEN state = 'held' THEN reserved_cost_picousd ELSE 0 END) AS held
                    FROM token_usage GROUP BY created_at - created_at % 86400000, user_id
                ) t WHERE spent <> 0 OR held <> 0
                """, in: store)
        return (counts.sorted(), sums.sorted())
    }

    @Test("the counts follow holds, settles, releases and a crash's recovery; a hold counts on the day it was made",
          arguments: TestDatabases.backends)
    func countsFollowTheLedger(_ backend: StoreBackend) async throws {
        let global = USDAmount(picodollars: 10_000_000_000)
        let (store, location, alice, conversationID) = try await BudgetStoreTests.setUp(
            backend, plan: .unlimited, globalDailyLimit: global)
        let bob = try await store.createUser(name: "bob", plan: .unlimited, tokenHash: UUID().uuidString)
        let bobConversation = try await store.createConversation(userID: bob.id, title: "b", model: "m", systemPrompt: nil)
        try await store.setDailyDollarLimit(userID: alice.id, limit: USDAmount(picodollars: 5_000_000_000))
        let today = StoredValues.dayStart(Date())
        let now = today.addingTimeInterval(3600)

        // Reserved: 100 input ($0.0001) + 900 output ($0.0018) = 1 900 000 000 picodollars; bob 10 + 90 = 190 000 000.
        let first = try #require(try await store.hold(
            BudgetStoreTests.request(alice, conversationID, input: 100, output: 900, price: Self.price), now: now))
        let second = try #require(try await store.hold(
            BudgetStoreTests.request(bob, bobConversation.id, input: 10, output: 90, price: Self.price), now: now))
        var state = try await Self.counted(in: store)
        #expect(state.counts == state.sums && state.counts.count == 2)
        var budget = try await store.budget(userID: alice.id, now: now)
        #expect(budget.dailyDollars?.spent == USDAmount(picodollars: 1_900_000_000))
        #expect(budget.globalDailyDollars?.spent == USDAmount(picodollars: 2_090_000_000))

        // Settled for what it cost; released when it generated nothing.
        try await store.settle(holdID: first.id, inputTokens: 100, outputTokens: 20, cost: USDAmount(picodollars: 140_000_000), now: now)
        try await store.settle(holdID: second.id, inputTokens: 0, outputTokens: 0, cost: .zero, now: now)
        state = try await Self.counted(in: store)
        #expect(state.counts == state.sums && state.counts.count == 1)
        budget = try await store.budget(userID: alice.id, now: now)
        #expect(budget.dailyDollars?.spent == USDAmount(picodollars: 140_000_000))
        #expect(budget.globalDailyDollars?.spent == USDAmount(picodollars: 140_000_000))

        // A hold made ten seconds before midnight and settled after it is yesterday's spending, not today's.
        let lastNight = try #require(try await store.hold(
            BudgetStoreTests.request(alice, conversationID, input: 10, output: 10, price: Self.price), now: today.addingTimeInterval(-10)))
        try await store.settle(holdID: lastNight.id, inputTokens: 10, outputTokens: 10, cost: USDAmount(picodollars: 30_000_000), now: now)
        state = try await Self.counted(in: store)
        #expect(state.counts == state.sums && state.counts.count == 2)
        #expect(try await store.budget(userID: alice.id, now: now).dailyDollars?.spent == USDAmount(picodollars: 140_000_000))

        // An answer being written when Sluice stopped: its hold is released at the next start, and so is its cost.
        let answer = Message(
            id: Identifier.make(), conversationID: conversationID, role: .assistant, content: "", status: .streaming,
            model: "m", createdAt: now)
        var request = BudgetStoreTests.request(alice, conversationID, input: 10, output: 40, price: Self.price)
        request.messageID = answer.id
        request.answer = answer
        _ = try #require(try await store.hold(request, now: now))
        #expect(try await store.budget(userID: alice.id, now: now).dailyDollars?.spent == USDAmount(picodollars: 230_000_000))
        try await store.close()
        let reopened = try await SluiceDatabases.open(location, globalDailyLimit: global)
        try await reopened.migrate()
        #expect(try await reopened.recoverInterruptedMessages() == 1)
        state = try await Self.counted(in: reopened)
        #expect(state.counts == state.sums)
        #expect(try await reopened.budget(userID: alice.id, now: now).dailyDollars?.spent == USDAmount(picodollars: 140_000_000))
        try await reopened.close()
    }

    @Test("an expired hold stops counting against the dollar limits at its expiry, as it does against tokens",
          arguments: TestDatabases.backends)
    func expiredHoldsStopCounting(_ backend: StoreBackend) async throws {
        let global = USDAmount(picodollars: 3_000_000_000)
        let (store, _, user, conversationID) = try await BudgetStoreTests.setUp(backend, plan: .unlimited, globalDailyLimit: global)
        try await store.setDailyDollarLimit(userID: user.id, limit: USDAmount(picodollars: 2_000_000_000))
        let now = StoredValues.dayStart(Date()).addingTimeInterval(3600)
        var request = BudgetStoreTests.request(user, conversationID, input: 100, output: 900, price: Self.price)
        request.expiresAfter = 60
        _ = try #require(try await store.hold(request, now: now))
        // $0.0019 of $0.002 is held: one more such turn does not fit until the stale hold has expired.
        let again = BudgetStoreTests.request(user, conversationID, input: 100, output: 900, price: Self.price)
        #expect(try await store.hold(again, now: now.addingTimeInterval(59)) == nil)
        let later = now.addingTimeInterval(61)
        let budget = try await store.budget(userID: user.id, now: later)
        #expect(budget.dailyDollars?.spent == .zero && budget.globalDailyDollars?.spent == .zero)
        #expect(try await store.hold(again, now: later)?.reservedTokens == 1000)
        try await store.close()
    }

    @Test("a database from before the counts gets them from its ledger when it is migrated", arguments: TestDatabases.backends)
    func migrationCountsTheLedger(_ backend: StoreBackend) async throws {
        let (store, location, user, conversationID) = try await BudgetStoreTests.setUp(backend, plan: .unlimited)
        let now = Date()
        for index in 0..<5 {
            let hold = try #require(try await store.hold(
                BudgetStoreTests.request(user, conversationID, input: 10, output: 10, price: Self.price), now: now.addingTimeInterval(-Double(index) * 86_400)))
            if index % 2 == 0 {
                try await store.settle(holdID: hold.id, inputTokens: 10, outputTokens: 5, cost: USDAmount(picodollars: 20_000_000), now: now)
            }
        }
        let expected = try await Self.counted(in: store)
        #expect(expected.counts.count == 5)
        // Back to schema step 14: no table, no triggers, the step not recorded (nor the later steps, undone too).
        let undo = backend == .sqlite
            ? ["DROP TRIGGER token_usage_spending_held", "DROP TRIGGER token_usage_spending_ended", "DROP TABLE daily_spending"]
            : ["DROP TRIGGER token_usage_spending ON token_usage", "DROP TABLE daily_spending"]
        let later = EndUserLedgerTests.undoStepsFrom17(backend) + ["ALTER TABLE conversations DROP COLUMN end_user"]
        for statement in undo + later + ["DELETE FROM schema_migrations WHERE version >= 15"] {
            _ = try await StoreTests.column("x", of: statement, in: store)
        }
        try await store.close()
        let reopened = try await SluiceDatabases.open(location)
        try await reopened.migrate()
        let migrated = try await Self.counted(in: reopened)
        #expect(migrated.counts == expected.counts && migrated.counts == migrated.sums)
        try await reopened.close()
    }
}
