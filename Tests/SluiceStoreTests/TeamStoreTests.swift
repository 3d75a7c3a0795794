import Foundation
import SluiceCore
import SluiceTestSupport
import Testing
@testable import SluiceStore

/// Teams (`TeamStore`, schema step 62): who belongs to which, and a team's daily limit held by every member's turn in
/// the same atomic step as their own limits.
@Suite("Teams")
struct TeamStoreTests {
    /// $1 per million input tokens, $2 per million output: 1 000 000 and 2 000 000 picodollars a token.
    static let price = DailySpendingTests.price

    static func dollars(_ picodollars: Int64) -> USDAmount { USDAmount(picodollars: picodollars) }

    @Test("teams are made, renamed, limited, joined, left and deleted; names are unique", arguments: TestDatabases.backends)
    func teamsAndMembers(_ backend: StoreBackend) async throws {
        let (store, _) = try await TestDatabases.makeStore(backend)
        let ann = try await store.createUser(name: "ann", plan: .free, tokenHash: "a")
        let bob = try await store.createUser(name: "bob", plan: .free, tokenHash: "b")
        let research = try await store.createTeam(name: "research", dailyDollarLimit: Self.dollars(5_000_000_000_000))
        await #expect(throws: StoreError.conflict("a team named research already exists")) {
            _ = try await store.createTeam(name: "research", dailyDollarLimit: nil)
        }
        let sales = try await store.createTeam(name: "sales", dailyDollarLimit: nil)
        try await store.setTeam(userID: ann.id, teamID: research.id)
        try await store.setTeam(userID: bob.id, teamID: research.id)
        // One team per user: joining another leaves the first.
        try await store.setTeam(userID: bob.id, teamID: sales.id)
        #expect(try await store.teamNamesByUser() == [ann.id: "research", bob.id: "sales"])
        var listed = try await store.teams(now: Date())
        #expect(listed.map(\.team.name) == ["research", "sales"])
        #expect(listed.map(\.memberIDs) == [[ann.id], [bob.id]])
        #expect(listed.first?.team.dailyDollarLimit == Self.dollars(5_000_000_000_000))
        #expect(listed.allSatisfy { $0.spentToday == .zero })

        try await store.renameTeam(id: sales.id, to: "sales-emea")
        await #expect(throws: StoreError.conflict("a team named research already exists")) {
            try await store.renameTeam(id: sales.id, to: "research")
        }
        try await store.setTeamDailyDollarLimit(id: sales.id, limit: Self.dollars(1_000_000_000_000))
        let renamed = try #require(try await store.team(named: "sales-emea"))
        #expect(renamed.id == sales.id && renamed.dailyDollarLimit == Self.dollars(1_000_000_000_000))
        #expect(try await store.team(named: "sales") == nil)
        #expect(try await store.budget(userID: bob.id, now: Date()).team?.name == "sales-emea")

        // A deleted team's members stay, in no team; it cannot be joined any more.
        #expect(try await store.deleteTeam(id: sales.id))
        #expect(try await store.deleteTeam(id: sales.id) == false)
        #expect(try await store.teamNamesByUser() == [ann.id: "research"])
        #expect(try await store.budget(userID: bob.id, now: Date()).team == nil)
        await #expect(throws: StoreError.notFound) { try await store.setTeam(userID: bob.id, teamID: sales.id) }
        await #expect(throws: StoreError.notFound) { try await store.setTeamDailyDollarLimit(id: sales.id, limit: nil) }

        // A team's models reach its members' credentials, within their own.
        try await store.setTeamModels(id: research.id, models: ["b", "c"])
        #expect(try await store.team(named: "research")?.allowedModels == ["b", "c"])
        #expect(try await store.credential(tokenHash: "a")?.teamModels == ["b", "c"])
        #expect(try await store.credential(tokenHash: "b")?.teamModels == nil)
        try await store.setAllowedModels(userID: ann.id, models: ["c", "a"])
        #expect(try await store.credential(tokenHash: "a")?.actingUser.allowedModels == ["c"])
        try await store.setTeamModels(id: research.id, models: nil)
        #expect(try await store.credential(tokenHash: "a")?.actingUser.allowedModels == ["c", "a"])
        await #expect(throws: StoreError.notFound) { try await store.setTeamModels(id: sales.id, models: ["a"]) }

        // A deleted user leaves their team.
        let cat = try await store.createUser(name: "cat", plan: .free, tokenHash: "c")
        try await store.setTeam(userID: cat.id, teamID: research.id)
        #expect(try await store.teams(now: Date()).first?.memberIDs == [ann.id, cat.id])
        #expect(try await store.deleteUser(userID: cat.id))
        listed = try await store.teams(now: Date())
        #expect(listed.map(\.memberIDs) == [[ann.id]])
        try await store.setTeam(userID: ann.id, teamID: nil)
        #expect(try await store.teamNamesByUser().isEmpty)
        try await store.close()
    }

    @Test("a team's limit caps and then refuses its members' holds, whoever spent it, and not others'",
          arguments: TestDatabases.backends)
    func teamLimitHoldsEveryMember(_ backend: StoreBackend) async throws {
        let (store, _, ann, annConversation) = try await BudgetStoreTests.setUp(backend, plan: .unlimited)
        let bob = try await store.createUser(name: "bob", plan: .unlimited, tokenHash: "b")
        let bobConversation = try await store.createConversation(userID: bob.id, title: "b", model: "m", systemPrompt: nil)
        let outsider = try await store.createUser(name: "out", plan: .unlimited, tokenHash: "o")
        let outsiderConversation = try await store.createConversation(userID: outsider.id, title: "o", model: "m", systemPrompt: nil)
        // $0.003 a day for the two of them.
        let team = try await store.createTeam(name: "pair", dailyDollarLimit: Self.dollars(3_000_000_000))
        try await store.setTeam(userID: ann.id, teamID: team.id)
        try await store.setTeam(userID: bob.id, teamID: team.id)
        let now = StoredValues.dayStart(Date()).addingTimeInterval(3600)

        // Ann holds 100 in ($0.0001) + 900 out ($0.0018): $0.0019 of the team's $0.003.
        let annHold = try #require(try await store.hold(
            BudgetStoreTests.request(ann, annConversation, input: 100, output: 900, price: Self.price), now: now))
        #expect(annHold.reservedTokens == 1000)
        // Bob, whose own budget is unlimited, gets what the team has left: $0.0011 − $0.0001 of input = 500 output tokens.
        let bobHold = try #require(try await store.hold(
            BudgetStoreTests.request(bob, bobConversation.id, input: 100, output: 900, price: Self.price), now: now))
        #expect(bobHold.reservedTokens == 600)
        #expect(bobHold.outputAllowance == 500)
        // Nothing is left for either of them; someone outside the team is not touched.
        #expect(try await store.hold(BudgetStoreTests.request(ann, annConversation, input: 1, output: 1, price: Self.price), now: now) == nil)
        #expect(try await store.hold(
            BudgetStoreTests.request(outsider, outsiderConversation.id, input: 100, output: 900, price: Self.price), now: now)?.reservedTokens == 1000)
        var budget = try await store.budget(userID: bob.id, now: now)
        #expect(budget.team?.name == "pair")
        #expect(budget.team?.dailyDollars?.spent == Self.dollars(3_000_000_000))
        #expect(budget.team?.dailyDollars?.level == .exceeded)
        #expect(try await store.teams(now: now).first?.spentToday == Self.dollars(3_000_000_000))

        // Settled for less, the rest comes back to the team; what was spent stays the team's after ann leaves it.
        try await store.settle(holdID: annHold.id, inputTokens: 100, outputTokens: 50, cost: Self.dollars(200_000_000), now: now)
        try await store.settle(holdID: bobHold.id, inputTokens: 100, outputTokens: 0, cost: Self.dollars(100_000_000), now: now)
        budget = try await store.budget(userID: ann.id, now: now)
        #expect(budget.team?.dailyDollars?.spent == Self.dollars(300_000_000))
        #expect(budget.team?.dailyDollars?.remaining == Self.dollars(2_700_000_000))
        try await store.setTeam(userID: ann.id, teamID: nil)
        #expect(try await store.teams(now: now).first?.spentToday == Self.dollars(300_000_000))
        #expect(try await store.budget(userID: ann.id, now: now).team == nil)
        // The counts are the ledger's own sums, per team and day.
        let counts = try await StoreTests.column(
            "line", of: "SELECT team_id || ' ' || CAST(spent_picousd AS TEXT) || ' ' || CAST(held_picousd AS TEXT) AS line FROM team_daily_spending",
            in: store)
        let sums = try await StoreTests.column(
            "line",
            of: """
                SELECT team_id || ' ' || CAST(SUM(CASE WHEN state = 'settled' THEN cost_picousd ELSE 0 END) AS TEXT) || ' '
                    || CAST(SUM(CASE WHEN state = 'held' THEN reserved_cost_picousd ELSE 0 END) AS TEXT) AS line
                FROM token_usage WHERE team_id IS NOT NULL GROUP BY team_id
                """, in: store)
        #expect(counts == sums && counts == ["\(team.id) 300000000 0"])

        // A higher limit applies to the next hold at once; no limit at all leaves only the members' own.
        try await store.setTeamDailyDollarLimit(id: team.id, limit: nil)
        #expect(try await store.budget(userID: bob.id, now: now).team == TeamBudget(name: "pair", dailyDollars: nil))
        #expect(try await store.hold(
            BudgetStoreTests.request(bob, bobConversation.id, input: 100, output: 900, price: Self.price), now: now)?.reservedTokens == 1000)
        try await store.close()
    }

    @Test("a team's monthly limit sums its days of this UTC month, not last month's", arguments: TestDatabases.backends)
    func monthlyLimit(_ backend: StoreBackend) async throws {
        let (store, _, ann, conversation) = try await BudgetStoreTests.setUp(backend, plan: .unlimited)
        // $0.003 a month, no daily limit.
        let team = try await store.createTeam(name: "monthly", dailyDollarLimit: nil, monthlyDollarLimit: Self.dollars(3_000_000_000))
        try await store.setTeam(userID: ann.id, teamID: team.id)
        let monthStart = UTCMonth.start(of: Date())
        let request = { BudgetStoreTests.request(ann, conversation, input: 100, output: 900, price: Self.price) }
        // The last hour of last month: spent then, it does not count now.
        let lastMonth = try #require(try await store.hold(request(), now: monthStart.addingTimeInterval(-3600)))
        try await store.settle(holdID: lastMonth.id, inputTokens: 100, outputTokens: 900, cost: Self.dollars(1_900_000_000), now: monthStart)
        // The month's first day: $0.001 settled.
        let first = try #require(try await store.hold(request(), now: monthStart.addingTimeInterval(3600)))
        #expect(first.reservedTokens == 1000)
        try await store.settle(holdID: first.id, inputTokens: 100, outputTokens: 450, cost: Self.dollars(1_000_000_000), now: monthStart)
        // Its second day: $0.002 left for the month, a whole hold ($0.0019) fits, then nothing does.
        let secondDay = monthStart.addingTimeInterval(86_400 + 3600)
        #expect(try await store.hold(request(), now: secondDay)?.reservedTokens == 1000)
        #expect(try await store.hold(request(), now: secondDay) == nil)
        let budget = try await store.budget(userID: ann.id, now: secondDay)
        #expect(budget.team?.dailyDollars == nil)
        #expect(budget.team?.monthlyDollars?.spent == Self.dollars(2_900_000_000))
        #expect(budget.team?.monthlyDollars?.resetAt == UTCMonth.next(after: secondDay))
        let listed = try #require(try await store.teams(now: secondDay).first)
        #expect(listed.spentThisMonth == Self.dollars(2_900_000_000) && listed.spentToday == Self.dollars(1_900_000_000))
        #expect(listed.team.monthlyDollarLimit == Self.dollars(3_000_000_000))
        // A daily limit too: the tighter of the two caps the hold.
        try await store.setTeamDailyDollarLimit(id: team.id, limit: Self.dollars(500_000_000))
        try await store.setTeamMonthlyDollarLimit(id: team.id, limit: Self.dollars(9_000_000_000))
        let thirdDay = monthStart.addingTimeInterval(2 * 86_400 + 3600)
        // $0.0005 a day: input $0.0001, then 200 output tokens at $0.000002.
        #expect(try await store.hold(request(), now: thirdDay)?.reservedTokens == 300)
        // Next month starts afresh.
        try await store.setTeamDailyDollarLimit(id: team.id, limit: nil)
        try await store.setTeamMonthlyDollarLimit(id: team.id, limit: Self.dollars(3_000_000_000))
        #expect(try await store.hold(request(), now: UTCMonth.next(after: secondDay).addingTimeInterval(3600))?.reservedTokens == 1000)
        try await store.close()
    }
}

/// Several instances on one PostgreSQL database, as in `SharedPostgresTests`: the team's row lock keeps members on
/// different instances from spending the same dollars twice.
@Suite("Teams on shared PostgreSQL", .enabled(if: TestDatabases.postgresURL != nil))
struct SharedTeamTests {
    /// Two instances on one PostgreSQL database, and a team "crowd" (made on the first with `dailyDollarLimit`) of four
    /// unlimited members (put in it by the second), each with a conversation.
    static func crowdOnTwoInstances(dailyDollarLimit: USDAmount?) async throws
        -> (first: PostgresStore, second: PostgresStore, team: Team, members: [(User, String)])
    {
        let location = try await TestDatabases.makeLocation(.postgres)
        let first = try await PostgresStore.open(url: location)
        let second = try await PostgresStore.open(url: location)
        try await first.migrate()
        try await second.migrate()
        let team = try await first.createTeam(name: "crowd", dailyDollarLimit: dailyDollarLimit)
        var members: [(User, String)] = []
        for index in 0..<4 {
            let user = try await first.createUser(name: "m\(index)", plan: .unlimited, tokenHash: "h\(index)")
            try await second.setTeam(userID: user.id, teamID: team.id)
            let conversation = try await first.createConversation(userID: user.id, title: "t", model: "m", systemPrompt: nil)
            members.append((user, conversation.id))
        }
        return (first, second, team, members)
    }

    @Test("400 concurrent holds of four members on two instances never hold more than the team's limit")
    func oneTeamTwoInstances() async throws {
        let limit: Int64 = 100_000_000_000  // $0.1
        let (first, second, _, members) = try await Self.crowdOnTwoInstances(dailyDollarLimit: USDAmount(picodollars: limit))
        let now = Date()
        let wave = { (stores: [PostgresStore], prefix: String) in
            try await Self.wave(over: stores, of: members, prefix: prefix, now: now) { user, conversationID, _ in
                BudgetStoreTests.request(user, conversationID, input: 10, output: 90, price: TeamStoreTests.price)
            }
        }
        let held = try await wave([first, second], "m")
        let reserved = held.compactMap { $0 }.reduce(0, +)
        #expect(reserved == 400 * 190_000_000)  // all fit: $0.076
        // Now a crowd that does not fit: what is held never passes the limit, and the rest is refused.
        let more = try await wave([second, first], "n")
        let total = reserved + more.compactMap { $0 }.reduce(0, +)
        #expect(total <= limit)
        #expect(more.contains(nil))
        // Not vacuous: the team was filled to within one hold's smallest step of its limit.
        #expect(limit - total < 12_000_000)
        let spent = try #require(try await first.budget(userID: members[0].0.id, now: now).team?.dailyDollars?.spent)
        #expect(spent.picodollars == total)
        try await first.close()
        try await second.close()
    }

    /// 400 holds at once, spread over `callers` and the instances `stores`, each asked for by `request` (the caller, its
    /// conversation, the turn's number); each one's reserved cost, or nil when refused. Each is to be 10 in + 90 out at
    /// $1 / $2 per million: at most $0.00019, so $0.1 allows about 526.
    static func wave(
        over stores: [PostgresStore], of callers: [(User, String)], prefix: String, now: Date,
        request: @escaping @Sendable (User, String, Int) -> HoldRequest
    ) async throws -> [Int64?] {
        try await withThrowingTaskGroup(of: Int64?.self) { group in
            for turn in 0..<400 {
                let store = stores[turn % stores.count]
                let (user, conversationID) = callers[turn % callers.count]
                group.addTask {
                    var hold = request(user, conversationID, turn)
                    hold.messageID = "\(prefix)\(turn)"
                    guard let held = try await store.hold(hold, now: now) else { return nil }
                    return 10 * 1_000_000 + Int64(held.reservedTokens - 10) * 2_000_000
                }
            }
            return try await group.reduce(into: [Int64?]()) { $0.append($1) }
        }
    }
}
