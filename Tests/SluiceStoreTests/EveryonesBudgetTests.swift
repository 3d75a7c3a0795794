import Foundation
import SluiceCore
import SluiceTestSupport
import Testing
@testable import SluiceStore

/// `BudgetStore.budgets(now:)`: every user's budget in a few statements (the administrator's list of users), as
/// `budget(userID:now:)` gives each.
@Suite("Everyone's budgets")
struct EveryonesBudgetTests {
    @Test("everyone's budgets are each user's own, limits, spending, ended periods and teams included", arguments: TestDatabases.backends)
    func everyonesBudgets(_ backend: StoreBackend) async throws {
        let (store, _, spender, conversation) = try await BudgetStoreTests.setUp(backend, plan: .pro)
        let now = Date()
        // A pro user with a daily dollar limit, rate limits and a settled turn, in a team with limits of its own.
        try await store.setDailyDollarLimit(userID: spender.id, limit: USDAmount(picodollars: 5_000_000_000_000))
        try await store.setRateLimit(.requests, userID: spender.id, limit: 30)
        let team = try await store.createTeam(name: "lab", dailyDollarLimit: USDAmount(picodollars: 9_000_000_000_000))
        try await store.setTeamRateLimit(.parallel, id: team.id, limit: 4)
        try await store.setTeam(userID: spender.id, teamID: team.id)
        let hold = try #require(try await store.hold(
            BudgetStoreTests.request(spender, conversation, input: 100, output: 50, price: TeamStoreTests.price), now: now))
        try await store.settle(holdID: hold.id, inputTokens: 100, outputTokens: 20, cost: USDAmount(picodollars: 140_000_000), now: now)
        // A free user whose budget was never read (no limits row yet), and one whose period ended with tokens used.
        let fresh = try await store.createUser(name: "fresh", plan: .free, tokenHash: "f")
        let lapsed = try await store.createUser(name: "lapsed", plan: .free, tokenHash: "l")
        _ = try await store.budget(userID: lapsed.id, now: now)
        _ = try await StoreTests.column(
            "x", of: "UPDATE user_token_limits SET tokens_used = 900, reset_at = 1000 WHERE user_id = '\(lapsed.id)'", in: store)

        // Read together first (the fresh user's row is made, the lapsed period rolled over), then each alone.
        let everyone = try await store.budgets(now: now)
        for user in [spender, fresh, lapsed] {
            let alone = try await store.budget(userID: user.id, now: now)
            #expect(everyone[user.id] == alone, "\(user.name)")
        }
        #expect(everyone[spender.id]?.used == 120 && everyone[spender.id]?.team?.name == "lab")
        #expect(everyone[spender.id]?.dailyDollars?.spent == USDAmount(picodollars: 140_000_000))
        #expect(everyone[spender.id]?.team?.rateLimits?.maxParallel == 4 && everyone[spender.id]?.rateLimits?.requests == 1)
        #expect(everyone[fresh.id]?.limit == Plan.free.defaultTokenLimit && everyone[fresh.id]?.used == 0)
        #expect(everyone[lapsed.id]?.used == 0 && (everyone[lapsed.id]?.resetAt ?? .distantPast) > now)
        try await store.close()
    }
}
