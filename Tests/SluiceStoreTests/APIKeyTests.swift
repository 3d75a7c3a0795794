import Foundation
import SluiceCore
import SluiceTestSupport
import Testing
@testable import SluiceStore

/// Schema step 21: labelled keys besides a user's token.
@Suite("API keys")
struct APIKeyTests {
    @Test("a key finds its user until it is revoked; labels are unique per user; the user's token is untouched",
          arguments: TestDatabases.backends)
    func keys(_ backend: StoreBackend) async throws {
        let (store, _) = try await TestDatabases.makeStore(backend)
        try await store.migrate()
        let ann = try await store.createUser(name: "ann", plan: .pro, tokenHash: "ann-token")
        let bob = try await store.createUser(name: "bob", plan: .free, tokenHash: "bob-token")
        try await store.setAllowedModels(userID: ann.id, models: ["m1"])

        let ci = try await store.addAPIKey(userID: ann.id, label: "ci", tokenHash: "ann-ci")
        let laptop = try await store.addAPIKey(userID: ann.id, label: "laptop", tokenHash: "ann-laptop")
        // Another user may use the same label.
        _ = try await store.addAPIKey(userID: bob.id, label: "ci", tokenHash: "bob-ci")
        await #expect(throws: StoreError.self) { _ = try await store.addAPIKey(userID: ann.id, label: "ci", tokenHash: "other") }

        // A key acts as its user, allowed models and all.
        let viaKey = try #require(try await store.user(tokenHash: "ann-ci"))
        #expect(viaKey.id == ann.id && viaKey.plan == .pro && viaKey.allowedModels == ["m1"])
        #expect(try await store.user(tokenHash: "bob-ci")?.id == bob.id)
        #expect(try await store.apiKeys(userID: ann.id).map(\.label) == ["ci", "laptop"])
        #expect(try await store.apiKeys(userID: ann.id).map(\.id) == [ci.id, laptop.id])

        #expect(try await store.revokeAPIKey(userID: ann.id, label: "ci"))
        #expect(try await store.user(tokenHash: "ann-ci") == nil)
        #expect(try await !store.revokeAPIKey(userID: ann.id, label: "ci"), "already revoked")
        #expect(try await !store.revokeAPIKey(userID: ann.id, label: "nope"))
        #expect(try await store.apiKeys(userID: ann.id).first?.revokedAt != nil)
        #expect(try await store.apiKeys(userID: ann.id).last?.revokedAt == nil)
        // Revoking Ann's "ci" left Bob's, Ann's other key and Ann's own token working.
        #expect(try await store.user(tokenHash: "bob-ci")?.id == bob.id)
        #expect(try await store.user(tokenHash: "ann-laptop")?.id == ann.id)
        #expect(try await store.user(tokenHash: "ann-token")?.id == ann.id)
        #expect(try await store.user(tokenHash: "nobody") == nil)
        try await store.close()
    }

    @Test("a turn made with a key is the key's usage: tokens, cost and last use per key, the user's own token apart",
          arguments: TestDatabases.backends)
    func usagePerKey(_ backend: StoreBackend) async throws {
        let (store, _) = try await TestDatabases.makeStore(backend)
        try await store.migrate()
        let ann = try await store.createUser(name: "ann", plan: .pro, tokenHash: "ann-token")
        let ci = try await store.addAPIKey(userID: ann.id, label: "ci", tokenHash: "ann-ci")
        let laptop = try await store.addAPIKey(userID: ann.id, label: "laptop", tokenHash: "ann-laptop")
        #expect(try await store.credential(tokenHash: "ann-ci") == Credential(user: ann, apiKeyID: ci.id, apiKeyLabel: "ci"))
        #expect(try await store.credential(tokenHash: "ann-token") == Credential(user: ann))

        let conversation = try await store.createConversation(userID: ann.id, title: "t", model: "m", systemPrompt: nil)
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        // Two turns with "ci", one with the user's own token, one with "laptop" that is still running (held).
        for (minute, key, tokens) in [(0, ci.id, (10, 5)), (1, nil, (3, 4)), (2, ci.id, (20, 1)), (3, laptop.id, nil)] as [(Int, String?, (Int, Int)?)] {
            var request = BudgetStoreTests.request(ann, conversation.id, input: 10, output: 50)
            request.apiKeyID = key
            request.price = ModelPrice(inputPerMillion: "1", outputPerMillion: "2")!
            let at = start.addingTimeInterval(Double(minute) * 60)
            let hold = try #require(try await store.hold(request, now: at))
            guard let tokens else { continue }
            let cost = request.price.cost(inputTokens: tokens.0, outputTokens: tokens.1)
            try await store.settle(holdID: hold.id, inputTokens: tokens.0, outputTokens: tokens.1, cost: cost, now: at)
        }
        let buckets = try await store.usageHistory(userID: ann.id, since: start, groupedBy: .apiKey)
        #expect(buckets.map(\.key) == [ci.id, ""])
        let byCI = try #require(buckets.first)
        #expect(byCI.label == "ci" && byCI.turns == 2 && byCI.totalTokens == 36)
        #expect(byCI.cost == USDAmount("0.000042")!, "30 input at $1/M and 6 output at $2/M")
        #expect(byCI.lastTurnAt == start.addingTimeInterval(120))
        #expect(buckets.last?.label == nil && buckets.last?.totalTokens == 7)
        // A revoked key's usage stays its own.
        #expect(try await store.revokeAPIKey(userID: ann.id, label: "ci"))
        #expect(try await store.usageHistory(userID: ann.id, since: start, groupedBy: .apiKey).first?.label == "ci")
        try await store.close()
    }

    @Test("a key past its expiry finds no user, and says when it expired; a key may be limited to some models", arguments: TestDatabases.backends)
    func expiry(_ backend: StoreBackend) async throws {
        let (store, _) = try await TestDatabases.makeStore(backend)
        try await store.migrate()
        let ann = try await store.createUser(name: "ann", plan: .pro, tokenHash: "ann-token")
        let past = Date(timeIntervalSince1970: 1_700_000_000)
        let future = Date().addingTimeInterval(86_400)
        _ = try await store.addAPIKey(userID: ann.id, label: "old job", tokenHash: "ann-old", expiresAt: past)
        _ = try await store.addAPIKey(userID: ann.id, label: "contractor", tokenHash: "ann-contractor", expiresAt: future)
        #expect(try await store.user(tokenHash: "ann-old") == nil)
        #expect(try await store.credential(tokenHash: "ann-old")?.expiresAt == past)
        #expect(try await store.credential(tokenHash: "ann-old")?.apiKeyLabel == "old job")
        #expect(try await store.user(tokenHash: "ann-contractor")?.id == ann.id)
        let stored = try await store.apiKeys(userID: ann.id)
        #expect(stored.first?.expiresAt == past)
        // Stored in milliseconds.
        #expect(abs(try #require(stored.last?.expiresAt).timeIntervalSince(future)) < 0.001)
        #expect(try await store.credential(tokenHash: "ann-token")?.expiresAt == nil)

        // A key limited to some models: stored, and what its user may act with.
        try await store.setAllowedModels(userID: ann.id, models: ["m1", "m2"])
        _ = try await store.addAPIKey(userID: ann.id, label: "cheap", tokenHash: "ann-cheap", expiresAt: nil, allowedModels: ["m3", "m2"])
        let cheap = try #require(try await store.credential(tokenHash: "ann-cheap"))
        #expect(cheap.keyModels == ["m3", "m2"] && cheap.actingUser.allowedModels == ["m2"])
        #expect(try await store.credential(tokenHash: "ann-token")?.actingUser.allowedModels == ["m1", "m2"])
        #expect(try await store.apiKeys(userID: ann.id).last?.allowedModels == ["m3", "m2"])
        try await store.close()
    }

    @Test("a key's daily limit caps its holds and no one else's; what it spent today counts live holds",
          arguments: TestDatabases.backends)
    func dailyLimit(_ backend: StoreBackend) async throws {
        let (store, _) = try await TestDatabases.makeStore(backend)
        try await store.migrate()
        let ann = try await store.createUser(name: "ann", plan: .unlimited, tokenHash: "ann-token")
        let ci = try await store.addAPIKey(
            userID: ann.id, label: "ci", tokenHash: "ann-ci", terms: .init(dailyDollarLimit: USDAmount("0.00005")!))
        #expect(try await store.credential(tokenHash: "ann-ci")?.keyDailyDollarLimit == USDAmount("0.00005"))
        #expect(try await store.apiKeys(userID: ann.id).first?.dailyDollarLimit == USDAmount("0.00005"))
        let conversation = try await store.createConversation(userID: ann.id, title: "t", model: "m", systemPrompt: nil)
        let now = Date()
        func request(key: String?, limit: USDAmount?) -> HoldRequest {
            // 10 input tokens at $1/M and up to 20 output at $1/M: at most $0.00003 a turn.
            var request = BudgetStoreTests.request(ann, conversation.id, input: 10, output: 20,
                                                   price: ModelPrice(inputPerMillion: "1", outputPerMillion: "1")!)
            request.apiKeyID = key
            request.apiKeyDailyLimit = limit
            return request
        }
        let limit = USDAmount("0.00005")!
        let first = try #require(try await store.hold(request(key: ci.id, limit: limit), now: now))
        #expect(first.reservedTokens == 30)
        #expect(try await store.apiKeySpentToday(userID: ann.id, apiKeyID: ci.id, now: now) == USDAmount("0.00003"))
        // The second turn gets what the day has left: $0.00002, 10 input tokens and 10 output.
        let second = try #require(try await store.hold(request(key: ci.id, limit: limit), now: now))
        #expect(second.reservedTokens == 20)
        #expect(try await store.hold(request(key: ci.id, limit: limit), now: now) == nil)
        // The user's own token and the key without a limit are not held to it.
        #expect(try await store.hold(request(key: nil, limit: nil), now: now) != nil)
        #expect(try await store.hold(request(key: "other", limit: nil), now: now) != nil)
        // Settled for less, the key has room again.
        try await store.settle(holdID: first.id, inputTokens: 10, outputTokens: 0, cost: USDAmount("0.00001")!, now: now)
        #expect(try await store.apiKeySpentToday(userID: ann.id, apiKeyID: ci.id, now: now) == USDAmount("0.00003"))
        #expect(try await store.hold(request(key: ci.id, limit: limit), now: now) != nil)
        try await store.close()
    }

    @Test("a key's rate limits refuse its own turns only, count its last minute and running answers, and come back with each hold",
          arguments: TestDatabases.backends)
    func rateLimits(_ backend: StoreBackend) async throws {
        let (store, _) = try await TestDatabases.makeStore(backend)
        try await store.migrate()
        let ann = try await store.createUser(name: "ann", plan: .unlimited, tokenHash: "ann-token")
        let caps = RateCaps(requestsPerMinute: 3, tokensPerMinute: 100, maxParallel: 2)
        let ci = try await store.addAPIKey(userID: ann.id, label: "ci", tokenHash: "ann-ci", terms: .init(rateCaps: caps))
        let other = try await store.addAPIKey(userID: ann.id, label: "other", tokenHash: "ann-other")
        #expect(try await store.credential(tokenHash: "ann-ci")?.keyRateCaps == caps)
        #expect(try await store.credential(tokenHash: "ann-ci")?.keyUse?.rateCaps == caps)
        #expect(try await store.credential(tokenHash: "ann-other")?.keyRateCaps == RateCaps.none)
        #expect(try await store.apiKeys(userID: ann.id).first?.rateCaps == caps)
        let conversation = try await store.createConversation(userID: ann.id, title: "t", model: "m", systemPrompt: nil)
        let now = Date()
        func request(key: String?, caps: RateCaps, input: Int = 10) -> HoldRequest {
            var request = BudgetStoreTests.request(ann, conversation.id, input: input, output: 20)
            request.apiKeyID = key
            request.apiKeyRateCaps = caps
            return request
        }

        // Two answers at once, the most the key may have; the hold says the key's use with itself counted.
        let first = try #require(try await store.hold(request(key: ci.id, caps: caps), now: now))
        #expect(first.rateLimits == nil, "the user has no limits of its own")
        let held = try #require(first.keyRateLimits)
        #expect(held.running == 1 && held.requests == 1 && held.tokens == 30 && held.maxParallel == 2)
        let second = try #require(try await store.hold(request(key: ci.id, caps: caps), now: now))
        #expect(second.keyRateLimits?.running == 2 && second.keyRateLimits?.requests == 2)
        #expect(try await store.hold(request(key: ci.id, caps: caps), now: now) == nil)
        let atOnce = try #require(try await store.apiKeyRateLimits(userID: ann.id, apiKeyID: ci.id, caps: caps, now: now))
        #expect(atOnce.exceeded(needing: 11) == .parallel)
        // The user's own token and another key of the user's are not held to the key's limits.
        #expect(try await store.hold(request(key: nil, caps: .none), now: now)?.keyRateLimits == nil)
        #expect(try await store.hold(request(key: other.id, caps: .none), now: now) != nil)

        // One finishes: a third request fits, then the key has made its three this minute.
        try await store.settle(holdID: first.id, inputTokens: 10, outputTokens: 5, cost: .zero, now: now)
        let third = try #require(try await store.hold(request(key: ci.id, caps: caps), now: now))
        #expect(third.keyRateLimits?.requests == 3)
        try await store.settle(holdID: second.id, inputTokens: 10, outputTokens: 5, cost: .zero, now: now)
        try await store.settle(holdID: third.id, inputTokens: 10, outputTokens: 5, cost: .zero, now: now)
        #expect(try await store.hold(request(key: ci.id, caps: caps), now: now) == nil)
        let perMinute = try #require(try await store.apiKeyRateLimits(userID: ann.id, apiKeyID: ci.id, caps: caps, now: now))
        #expect(perMinute.exceeded(needing: 11) == .requests && perMinute.running == 0 && perMinute.tokens == 45)
        #expect(perMinute.oldestLeavesAt.map { abs($0.timeIntervalSince(now.addingTimeInterval(60))) < 0.01 } == true)

        // A minute on, the window is empty again; a turn that would take the key past its tokens a minute is refused.
        let later = now.addingTimeInterval(61)
        let tokensOnly = RateCaps(tokensPerMinute: 100)
        #expect(try await store.hold(request(key: ci.id, caps: tokensOnly, input: 100), now: later) == nil)
        let fits = try #require(try await store.hold(request(key: ci.id, caps: tokensOnly, input: 60), now: later))
        #expect(fits.keyRateLimits?.tokens == 80 && fits.keyRateLimits?.requestsPerMinute == nil)
        let full = try #require(try await store.apiKeyRateLimits(userID: ann.id, apiKeyID: ci.id, caps: tokensOnly, now: later))
        #expect(full.exceeded(needing: 21) == .tokens && full.exceeded(needing: 20) == nil)
        #expect(try await store.apiKeyRateLimits(userID: ann.id, apiKeyID: ci.id, caps: .none, now: later) == nil)
        try await store.close()
    }
}
