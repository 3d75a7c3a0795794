import Foundation
import SluiceCore
import SluiceTestSupport
import Testing
@testable import SluiceStore

/// A team's limits per minute and at once (schema step 63), counted over all its members together and held in the
/// same atomic step as each member's own limits.
@Suite("Teams' rate limits")
struct TeamRateLimitTests {
    /// Ann and Bob in a team `pair` (no dollar limit), an outsider, each with a conversation; every user unlimited.
    static func setUp(_ backend: StoreBackend) async throws
        -> (store: any SluiceDatabase, team: Team, members: [(User, String)], outsider: (User, String))
    {
        let (store, _, ann, annConversation) = try await BudgetStoreTests.setUp(backend, plan: .unlimited)
        let bob = try await store.createUser(name: "bob", plan: .unlimited, tokenHash: "b")
        let bobConversation = try await store.createConversation(userID: bob.id, title: "b", model: "m", systemPrompt: nil)
        let outsider = try await store.createUser(name: "out", plan: .unlimited, tokenHash: "o")
        let outsiderConversation = try await store.createConversation(userID: outsider.id, title: "o", model: "m", systemPrompt: nil)
        let team = try await store.createTeam(name: "pair", dailyDollarLimit: nil)
        try await store.setTeam(userID: ann.id, teamID: team.id)
        try await store.setTeam(userID: bob.id, teamID: team.id)
        return (store, team, [(ann, annConversation), (bob, bobConversation.id)], (outsider, outsiderConversation.id))
    }

    static func hold(_ store: any SluiceDatabase, _ member: (User, String), input: Int = 10, output: Int = 90, at now: Date)
        async throws -> BudgetHold?
    {
        try await store.hold(BudgetStoreTests.request(member.0, member.1, input: input, output: output), now: now)
    }

    @Test("a team's requests a minute count every member's and refuse the next, not an outsider's", arguments: TestDatabases.backends)
    func requestsPerMinute(_ backend: StoreBackend) async throws {
        let (store, team, members, outsider) = try await Self.setUp(backend)
        try await store.setTeamRateLimit(.requests, id: team.id, limit: 3)
        #expect(try await store.team(named: "pair")?.rateCaps == RateCaps(requestsPerMinute: 3))
        let now = Date()
        let first = try #require(try await Self.hold(store, members[0], at: now))
        _ = try #require(try await Self.hold(store, members[0], at: now.addingTimeInterval(1)))
        _ = try #require(try await Self.hold(store, members[1], at: now.addingTimeInterval(2)))
        // Settled or not, a request stays in the window: the fourth is refused to either member.
        try await store.settle(holdID: first.id, inputTokens: 10, outputTokens: 5, cost: .zero, now: now)
        #expect(try await Self.hold(store, members[1], at: now.addingTimeInterval(3)) == nil)
        #expect(try await Self.hold(store, members[0], at: now.addingTimeInterval(3)) == nil)
        #expect(try await Self.hold(store, outsider, at: now.addingTimeInterval(3)) != nil)
        // The budget says why, for the refusal's message: the team's three requests of its three a minute.
        let rates = try #require(try await store.budget(userID: members[1].0.id, now: now.addingTimeInterval(3)).team?.rateLimits)
        #expect(rates.requests == 3 && rates.requestsPerMinute == 3)
        #expect(rates.exceeded(needing: 11) == .requests)
        #expect(rates.oldestLeavesAt == Date(timeIntervalSince1970: (Double(StoredValues.milliseconds(now)) + 60_000) / 1000))
        #expect(try await store.budget(userID: members[1].0.id, now: now).rateLimits == nil)  // bob's own: none
        // A minute after the first, one request has left the window; without the limit, any number fit.
        #expect(try await Self.hold(store, members[1], at: now.addingTimeInterval(60.5)) != nil)
        #expect(try await Self.hold(store, members[0], at: now.addingTimeInterval(60.6)) == nil)
        try await store.setTeamRateLimit(.requests, id: team.id, limit: nil)
        #expect(try await Self.hold(store, members[0], at: now.addingTimeInterval(60.7)) != nil)
        #expect(try await store.budget(userID: members[0].0.id, now: now).team?.rateLimits == nil)
        try await store.close()
    }

    @Test("a team's answers at once and tokens a minute count every member's running turns", arguments: TestDatabases.backends)
    func parallelAndTokens(_ backend: StoreBackend) async throws {
        let (store, team, members, _) = try await Self.setUp(backend)
        try await store.setTeamRateLimit(.parallel, id: team.id, limit: 2)
        let now = Date()
        let ann = try #require(try await Self.hold(store, members[0], at: now))
        _ = try #require(try await Self.hold(store, members[1], at: now))
        #expect(try await Self.hold(store, members[0], at: now) == nil)
        #expect(try await store.budget(userID: members[0].0.id, now: now).team?.rateLimits?.running == 2)
        // One ends: the next may start.
        try await store.settle(holdID: ann.id, inputTokens: 10, outputTokens: 90, cost: .zero, now: now)
        _ = try #require(try await Self.hold(store, members[0], at: now))

        // Tokens a minute: the three holds above used or hold 300; 500 allows one more turn of 101 tokens at least,
        // whose hold is not cut (a rate limit refuses, it does not cap), and then nothing.
        try await store.setTeamRateLimit(.parallel, id: team.id, limit: nil)
        try await store.setTeamRateLimit(.tokens, id: team.id, limit: 500)
        let big = try #require(try await Self.hold(store, members[1], input: 100, output: 900, at: now))
        #expect(big.reservedTokens == 1000)
        #expect(try await Self.hold(store, members[0], input: 1, output: 1, at: now) == nil)
        let rates = try #require(try await store.budget(userID: members[0].0.id, now: now).team?.rateLimits)
        #expect(rates.tokens == 1300 && rates.tokensPerMinute == 500 && rates.exceeded(needing: 2) == .tokens)
        try await store.close()
    }

    @Test("200 concurrent holds of four members on two instances never run more than the team's answers at once",
          .enabled(if: TestDatabases.postgresURL != nil))
    func parallelOverTwoInstances() async throws {
        let (first, second, team, members) = try await SharedTeamTests.crowdOnTwoInstances(dailyDollarLimit: nil)
        try await second.setTeamRateLimit(.parallel, id: team.id, limit: 7)
        let now = Date()
        let wave = { (prefix: String) in
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for turn in 0..<200 {
                    let store = turn % 2 == 0 ? first : second
                    let (user, conversationID) = members[turn % 4]
                    group.addTask {
                        var request = BudgetStoreTests.request(user, conversationID, input: 10, output: 90)
                        request.messageID = "\(prefix)\(turn)"
                        return try await store.hold(request, now: now) != nil
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
        }
        #expect(try await wave("p") == 7)
        // Then 100 requests a minute instead: the seven already sent count, so 93 more, whichever instance.
        try await first.setTeamRateLimit(.parallel, id: team.id, limit: nil)
        try await first.setTeamRateLimit(.requests, id: team.id, limit: 100)
        #expect(try await wave("r") == 93)
        try await first.close()
        try await second.close()
    }
}
