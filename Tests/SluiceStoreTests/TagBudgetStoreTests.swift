import Foundation
import SluiceCore
import SluiceTestSupport
import Testing
@testable import SluiceStore

/// Budgets per tag (`TagBudgetStore`, schema step 67): every call carrying a budgeted tag is held to its daily and
/// monthly limits in the same atomic step as its caller's own limits, whoever makes it.
@Suite("Tag budgets")
struct TagBudgetStoreTests {
    /// $1 per million input tokens, $2 per million output: 1 000 000 and 2 000 000 picodollars a token.
    static let price = DailySpendingTests.price

    static func dollars(_ picodollars: Int64) -> USDAmount { USDAmount(picodollars: picodollars) }

    static func request(_ user: User, _ conversationID: String, tags: [String], input: Int = 100, output: Int = 900) -> HoldRequest {
        var request = BudgetStoreTests.request(user, conversationID, input: input, output: output, price: price)
        request.tags = tags
        return request
    }

    /// `tag_daily_spending` as lines "tag day spent held", and the same sums straight from the ledger's tagged rows.
    static func countsAndSums(_ store: any SluiceDatabase, tag: String) async throws -> (counts: [String], sums: [String]) {
        let counts = try await StoreTests.column(
            "line",
            of: """
                SELECT CAST(day_start AS TEXT) || ' ' || CAST(spent_picousd AS TEXT) || ' ' || CAST(held_picousd AS TEXT) AS line
                FROM tag_daily_spending WHERE tag = '\(tag)' ORDER BY day_start
                """, in: store)
        let sums = try await StoreTests.column(
            "line",
            of: """
                SELECT CAST(created_at - created_at % 86400000 AS TEXT) || ' '
                    || CAST(SUM(CASE WHEN state = 'settled' THEN cost_picousd ELSE 0 END) AS TEXT) || ' '
                    || CAST(SUM(CASE WHEN state = 'held' THEN reserved_cost_picousd ELSE 0 END) AS TEXT) AS line
                FROM token_usage WHERE tags LIKE '%"\(tag)"%' GROUP BY created_at - created_at % 86400000
                ORDER BY created_at - created_at % 86400000
                """, in: store)
        return (counts, sums)
    }

    @Test("a tag's daily limit caps and then refuses every call carrying it, whoever makes it, and no other",
          arguments: TestDatabases.backends)
    func dailyLimitHoldsEveryCaller(_ backend: StoreBackend) async throws {
        let (store, _, ann, annConversation) = try await BudgetStoreTests.setUp(backend, plan: .unlimited)
        let bob = try await store.createUser(name: "bob", plan: .unlimited, tokenHash: "b")
        let bobConversation = try await store.createConversation(userID: bob.id, title: "b", model: "m", systemPrompt: nil)
        let now = StoredValues.dayStart(Date()).addingTimeInterval(3600)
        // $0.003 a day for every call tagged "prod".
        let budget = try await store.setTagBudget(
            tag: "prod", dailyDollarLimit: Self.dollars(3_000_000_000), monthlyDollarLimit: nil, now: now)
        #expect(budget.tag == "prod" && budget.dailyDollarLimit == Self.dollars(3_000_000_000) && budget.monthlyDollarLimit == nil)

        // Ann holds 100 in ($0.0001) + 900 out ($0.0018): $0.0019 of the tag's $0.003.
        let annHold = try #require(try await store.hold(Self.request(ann, annConversation, tags: ["prod"]), now: now))
        #expect(annHold.reservedTokens == 1000)
        // Bob's call carries the tag among others: it gets what the tag has left, $0.0011 − $0.0001 = 500 output tokens.
        let bobHold = try #require(try await store.hold(Self.request(bob, bobConversation.id, tags: ["eu", "prod"]), now: now))
        #expect(bobHold.reservedTokens == 600 && bobHold.outputAllowance == 500)
        // Nothing is left under the tag; a call without it, or without tags, is not touched.
        #expect(try await store.hold(Self.request(ann, annConversation, tags: ["prod"], input: 1, output: 1), now: now) == nil)
        #expect(try await store.hold(Self.request(ann, annConversation, tags: ["eu"]), now: now)?.reservedTokens == 1000)
        #expect(try await store.hold(Self.request(bob, bobConversation.id, tags: []), now: now)?.reservedTokens == 1000)
        var listed = try await store.tagBudgets(now: now)
        #expect(listed.map(\.budget.tag) == ["prod"])
        #expect(listed.first?.spentToday == Self.dollars(3_000_000_000))
        #expect(listed.first?.dailyDollars?.level == .exceeded)
        #expect(listed.first?.dailyDollars?.resetAt == StoredValues.dayStart(now).addingTimeInterval(86_400))

        // Settled for less, the rest comes back to the tag.
        try await store.settle(holdID: annHold.id, inputTokens: 100, outputTokens: 50, cost: Self.dollars(200_000_000), now: now)
        try await store.settle(holdID: bobHold.id, inputTokens: 100, outputTokens: 0, cost: Self.dollars(100_000_000), now: now)
        listed = try await store.tagBudgets(now: now)
        #expect(listed.first?.spentToday == Self.dollars(300_000_000) && listed.first?.spentThisMonth == Self.dollars(300_000_000))
        let (counts, sums) = try await Self.countsAndSums(store, tag: "prod")
        #expect(counts == sums && counts == ["\(StoredValues.milliseconds(StoredValues.dayStart(now))) 300000000 0"])
        // Only budgeted tags are counted.
        #expect(try await Self.countsAndSums(store, tag: "eu").counts.isEmpty)

        // A monthly limit of $0.0005 leaves $0.0002: 100 in and 50 out.
        _ = try await store.setTagBudget(tag: "prod", dailyDollarLimit: nil, monthlyDollarLimit: Self.dollars(500_000_000), now: now)
        let monthly = try #require(try await store.tagBudgets(now: now).first)
        #expect(monthly.dailyDollars == nil && monthly.monthlyDollars?.remaining == Self.dollars(200_000_000))
        #expect(monthly.budget.createdAt == budget.createdAt)
        #expect(try await store.hold(Self.request(bob, bobConversation.id, tags: ["prod"]), now: now)?.reservedTokens == 150)

        // Removed, the tag holds nothing back and its count is gone.
        #expect(try await store.removeTagBudget(tag: "prod"))
        #expect(try await store.removeTagBudget(tag: "prod") == false)
        #expect(try await store.tagBudgets(now: now).isEmpty)
        #expect(try await Self.countsAndSums(store, tag: "prod").counts.isEmpty)
        #expect(try await store.hold(Self.request(ann, annConversation, tags: ["prod"]), now: now)?.reservedTokens == 1000)
        try await store.close()
    }

    @Test("a new budget counts what the tag's calls already spent and hold this month, and not an expired hold",
          arguments: TestDatabases.backends)
    func newBudgetCountsTheMonth(_ backend: StoreBackend) async throws {
        let (store, _, ann, conversation) = try await BudgetStoreTests.setUp(backend, plan: .unlimited)
        let now = StoredValues.dayStart(UTCMonth.start(of: Date()).addingTimeInterval(20 * 86_400)).addingTimeInterval(7200)
        let earlierThisMonth = now.addingTimeInterval(-3 * 86_400)
        let lastMonth = UTCMonth.start(of: now).addingTimeInterval(-3600)
        for (moment, cost) in [(lastMonth, Int64(1_000_000_000)), (earlierThisMonth, 200_000_000), (now, 30_000_000)] {
            let hold = try #require(try await store.hold(Self.request(ann, conversation, tags: ["batch", "x"]), now: moment))
            try await store.settle(holdID: hold.id, inputTokens: 100, outputTokens: 10, cost: Self.dollars(cost), now: moment)
        }
        // One still running when the budget is made: its most ($0.0019) counts until it settles.
        let running = try #require(try await store.hold(Self.request(ann, conversation, tags: ["batch"]), now: now))
        _ = try await store.setTagBudget(tag: "batch", dailyDollarLimit: Self.dollars(5_000_000_000), monthlyDollarLimit: nil, now: now)
        var summary = try #require(try await store.tagBudgets(now: now).first)
        #expect(summary.spentToday == Self.dollars(30_000_000 + 1_900_000_000))
        #expect(summary.spentThisMonth == Self.dollars(230_000_000 + 1_900_000_000))
        try await store.settle(holdID: running.id, inputTokens: 100, outputTokens: 10, cost: Self.dollars(120_000_000), now: now)
        summary = try #require(try await store.tagBudgets(now: now).first)
        #expect(summary.spentToday == Self.dollars(150_000_000) && summary.spentThisMonth == Self.dollars(350_000_000))
        let (counts, sums) = try await Self.countsAndSums(store, tag: "batch")
        #expect(counts == sums.suffix(2) && counts.count == 2)

        // A hold that outlived its expiry (a crashed instance's) no longer counts; the ledger keeps it held.
        var crashed = Self.request(ann, conversation, tags: ["batch"])
        crashed.expiresAfter = 60
        _ = try #require(try await store.hold(crashed, now: now))
        #expect(try await store.tagBudgets(now: now).first?.spentToday == Self.dollars(150_000_000 + 1_900_000_000))
        #expect(try await store.tagBudgets(now: now.addingTimeInterval(120)).first?.spentToday == Self.dollars(150_000_000))
        try await store.close()
    }
}

/// Several instances on one PostgreSQL database: the budgeted tags' row locks keep calls on different instances from
/// spending a tag's dollars twice.
@Suite("Tag budgets on shared PostgreSQL", .enabled(if: TestDatabases.postgresURL != nil))
struct SharedTagBudgetTests {
    @Test("400 concurrent holds of four users on two instances, tagged in either order, never pass a tag's limit")
    func oneTagTwoInstances() async throws {
        let limit: Int64 = 100_000_000_000  // $0.1
        let location = try await TestDatabases.makeLocation(.postgres)
        let first = try await PostgresStore.open(url: location)
        let second = try await PostgresStore.open(url: location)
        try await first.migrate()
        try await second.migrate()
        var callers: [(User, String)] = []
        for index in 0..<4 {
            let user = try await first.createUser(name: "c\(index)", plan: .unlimited, tokenHash: "h\(index)")
            let conversation = try await second.createConversation(userID: user.id, title: "t", model: "m", systemPrompt: nil)
            callers.append((user, conversation.id))
        }
        let now = Date()
        _ = try await first.setTagBudget(tag: "shared", dailyDollarLimit: USDAmount(picodollars: limit), monthlyDollarLimit: nil, now: now)
        // A second budgeted tag that never binds, named first or last: holds lock both in one order, so none deadlock.
        _ = try await second.setTagBudget(tag: "other", dailyDollarLimit: USDAmount(picodollars: 1_000 * limit), monthlyDollarLimit: nil, now: now)
        let wave = { (stores: [PostgresStore], prefix: String) in
            try await SharedTeamTests.wave(over: stores, of: callers, prefix: prefix, now: now) { user, conversationID, turn in
                TagBudgetStoreTests.request(
                    user, conversationID, tags: turn % 3 == 0 ? ["other", "shared"] : ["shared", "other"], input: 10, output: 90)
            }
        }
        let held = try await wave([first, second], "m")
        let reserved = held.compactMap { $0 }.reduce(0, +)
        #expect(reserved == 400 * 190_000_000)  // all fit: $0.076
        let more = try await wave([second, first], "n")
        let total = reserved + more.compactMap { $0 }.reduce(0, +)
        #expect(total <= limit)
        #expect(more.contains(nil))
        // Not vacuous: the tag was filled to within one hold's smallest step of its limit.
        #expect(limit - total < 12_000_000)
        let spent = try #require(try await second.tagBudgets(now: now).first { $0.budget.tag == "shared" }?.spentToday)
        #expect(spent.picodollars == total)
        try await first.close()
        try await second.close()
    }
}
