import Foundation
import SluiceCore
import SluiceTestSupport
import Testing
@testable import SluiceStore

/// Schema step 18: a user's limit on what each of its end users spends a day, enforced by the hold itself.
@Suite("Daily dollar limits per end user")
struct EndUserLimitTests {
    /// 1 µ$ per input token, 2 µ$ per output token: a hold of 10 + 10 tokens reserves 30 µ$.
    static let price = ModelPrice(inputPerMillion: "1", outputPerMillion: "2")!
    static func micro(_ amount: Int64) -> USDAmount { USDAmount(picodollars: amount * 1_000_000) }

    /// A new database with one user on the unlimited plan: a service whose end users' days are the only limit.
    static func service(_ backend: StoreBackend) async throws -> (any SluiceDatabase, User) {
        let (store, _) = try await TestDatabases.makeStore(backend)
        try await store.migrate()
        return (store, try await store.createUser(name: "service", plan: .unlimited, tokenHash: "h"))
    }

    static func conversation(_ store: any SluiceDatabase, _ user: User, endUser: String?) async throws -> String {
        let conversation = Conversation.starting(userID: user.id, title: "API", model: "m", systemPrompt: nil, endUser: endUser)
        try await store.createConversation(conversation, messages: [])
        return conversation.id
    }

    static func hold(
        _ store: any SluiceDatabase, _ user: User, _ conversationID: String, now: Date, expiresAfter: TimeInterval = 3600
    ) async throws -> BudgetHold? {
        var request = BudgetStoreTests.request(user, conversationID, input: 10, output: 10, price: price)
        request.expiresAfter = expiresAfter
        return try await store.hold(request, now: now)
    }

    @Test("each end user's holds fit under the limit on their own; other end users and turns without one are not affected",
          arguments: TestDatabases.backends)
    func limitPerEndUser(_ backend: StoreBackend) async throws {
        let (store, user) = try await Self.service(backend)
        let now = Date()
        #expect(try await store.budget(userID: user.id, now: now).endUserDailyLimit == nil)
        try await store.setEndUserDailyDollarLimit(userID: user.id, limit: Self.micro(50))
        #expect(try await store.budget(userID: user.id, now: now).endUserDailyLimit == Self.micro(50))
        let (a, b, none) = (
            try await Self.conversation(store, user, endUser: "a"), try await Self.conversation(store, user, endUser: "b"),
            try await Self.conversation(store, user, endUser: nil))

        let first = try #require(try await Self.hold(store, user, a, now: now))
        #expect(first.reservedTokens == 20)  // 30 µ$ of the 50
        // 20 µ$ left: the input (10 µ$) and 5 output tokens (10 µ$).
        let second = try #require(try await Self.hold(store, user, a, now: now))
        #expect(second.reservedTokens == 15 && second.outputAllowance == 5)
        #expect(try await Self.hold(store, user, a, now: now) == nil)
        #expect(try await store.endUserBudget(userID: user.id, endUser: "a", now: now)
            == DollarBudget(limit: Self.micro(50), spent: Self.micro(50), resetAt: StoredValues.dayStart(now).addingTimeInterval(86_400)))

        // Another end user has a day of its own; a conversation without one has no such limit.
        #expect(try await Self.hold(store, user, b, now: now)?.reservedTokens == 20)
        for _ in 0 ..< 3 { #expect(try await Self.hold(store, user, none, now: now)?.reservedTokens == 20) }
        #expect(try await store.endUserBudget(userID: user.id, endUser: "b", now: now)?.spent == Self.micro(30))
        #expect(try await store.endUserBudget(userID: user.id, endUser: "nobody", now: now)?.spent == .zero)

        // Settled for less than was held (12 µ$), the first turn gives back 18 µ$: the input and 4 output tokens fit.
        try await store.settle(holdID: first.id, inputTokens: 10, outputTokens: 1, cost: Self.micro(12), now: now)
        #expect(try await store.endUserBudget(userID: user.id, endUser: "a", now: now)?.spent == Self.micro(32))
        #expect(try await Self.hold(store, user, a, now: now)?.outputAllowance == 4)

        // Without the limit the end user is held like anyone.
        try await store.setEndUserDailyDollarLimit(userID: user.id, limit: nil)
        #expect(try await Self.hold(store, user, a, now: now)?.reservedTokens == 20)
        #expect(try await store.endUserBudget(userID: user.id, endUser: "a", now: now) == nil)
        try await store.close()
    }

    @Test("a call without a conversation names its end user: held to that end user's day, its row counted in it (step 36)",
          arguments: TestDatabases.backends)
    func callNamesEndUser(_ backend: StoreBackend) async throws {
        let (store, user) = try await Self.service(backend)
        try await store.setEndUserDailyDollarLimit(userID: user.id, limit: Self.micro(50))
        let a = try await Self.conversation(store, user, endUser: "a")
        let now = Date()
        func call(_ endUser: String?) async throws -> BudgetHold? {
            var request = BudgetStoreTests.request(user, "", input: 10, output: 10, price: Self.price)
            request.endUser = endUser
            return try await store.hold(request, now: now)
        }
        // A call for "a" and a turn in a's conversation share a's 50 µ$: 30 + 20.
        #expect(try await call("a")?.reservedTokens == 20)
        #expect(try await Self.hold(store, user, a, now: now)?.reservedTokens == 15)
        #expect(try await call("a") == nil)
        #expect(try await store.endUserBudget(userID: user.id, endUser: "a", now: now)?.spent == Self.micro(50))
        // Other end users and calls without one go on.
        #expect(try await call("b")?.reservedTokens == 20)
        #expect(try await call(nil)?.reservedTokens == 20)
        #expect(try await StoreTests.column(
            "end_user", of: "SELECT COALESCE(end_user, '-') AS end_user FROM token_usage WHERE conversation_id = '' ORDER BY end_user",
            in: store) == ["-", "a", "b"])
        try await store.close()
    }

    @Test("100 concurrent holds for one end user never reserve more than its day allows", arguments: TestDatabases.backends)
    func concurrentHolds(_ backend: StoreBackend) async throws {
        let (store, user) = try await Self.service(backend)
        try await store.setEndUserDailyDollarLimit(userID: user.id, limit: Self.micro(305))
        let a = try await Self.conversation(store, user, endUser: "a")
        let now = Date()
        let held = try await withThrowingTaskGroup(of: BudgetHold?.self) { group in
            for _ in 0 ..< 100 { group.addTask { try await Self.hold(store, user, a, now: now) } }
            return try await group.reduce(into: [BudgetHold]()) { if let hold = $1 { $0.append(hold) } }
        }
        // Ten whole holds of 30 µ$; the 5 µ$ left do not cover the input and one output token (12 µ$).
        let reserved = held.reduce(Int64(0)) { $0 + Int64(10 + ($1.reservedTokens - 10) * 2) }
        #expect(reserved <= 305)
        #expect(held.count == 10 && reserved == 300)
        #expect(try await store.endUserBudget(userID: user.id, endUser: "a", now: now)?.spent == Self.micro(300))
        try await store.close()
    }

    @Test("a crashed turn's expired hold stops counting against its end user; yesterday's spending does not count today",
          arguments: TestDatabases.backends)
    func expiredHoldsAndDays(_ backend: StoreBackend) async throws {
        let (store, user) = try await Self.service(backend)
        try await store.setEndUserDailyDollarLimit(userID: user.id, limit: Self.micro(30))
        let a = try await Self.conversation(store, user, endUser: "a")
        let noon = StoredValues.dayStart(Date()).addingTimeInterval(12 * 3600)
        // Yesterday: spent in full, settled.
        let yesterday = try #require(try await Self.hold(store, user, a, now: noon.addingTimeInterval(-86_400)))
        try await store.settle(holdID: yesterday.id, inputTokens: 10, outputTokens: 10, cost: Self.micro(30), now: noon.addingTimeInterval(-86_400))
        // Today: a hold that expires after a minute takes the whole day's 30 µ$ ...
        _ = try #require(try await Self.hold(store, user, a, now: noon, expiresAfter: 60))
        #expect(try await Self.hold(store, user, a, now: noon.addingTimeInterval(30)) == nil)
        // ... until it has expired.
        #expect(try await Self.hold(store, user, a, now: noon.addingTimeInterval(61))?.reservedTokens == 20)
        try await store.close()
    }
}
