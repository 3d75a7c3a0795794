import Foundation
import SluiceCore
import Testing

@testable import SluiceServer

/// The token cache answers for `lifetime` after a store lookup, then asks the store again.
struct TokenCacheTests {
    let dana = Credential(user: User(id: "u1", name: "dana", plan: .free, createdAt: Date(timeIntervalSince1970: 0)))
    let danasKey = Credential(
        user: User(id: "u1", name: "dana", plan: .free, createdAt: Date(timeIntervalSince1970: 0)), apiKeyID: "k1", apiKeyLabel: "ci")

    @Test func aRememberedUserIsFoundUntilTheLifetimeEnds() {
        let cache = TokenCache(lifetime: .seconds(5))
        let start = ContinuousClock.now
        #expect(cache.credential(tokenHash: "h", now: start) == nil)
        cache.remember(dana, tokenHash: "h", now: start)
        #expect(cache.credential(tokenHash: "h", now: start + .seconds(4)) == dana)
        #expect(cache.credential(tokenHash: "other", now: start + .seconds(4)) == nil)
        #expect(cache.credential(tokenHash: "h", now: start + .seconds(5)) == nil)
        // Expired entries are gone, not revived.
        #expect(cache.credential(tokenHash: "h", now: start + .seconds(1)) == nil)
        // A key is remembered as the key it is, not only as its user.
        cache.remember(danasKey, tokenHash: "k", now: start)
        #expect(cache.credential(tokenHash: "k", now: start)?.apiKeyID == "k1")
    }

    @Test func aFloodOfTokensCannotGrowItPastItsCapacity() {
        let cache = TokenCache(lifetime: .seconds(5), capacity: 3)
        let now = ContinuousClock.now
        for index in 0..<3 { cache.remember(dana, tokenHash: "h\(index)", now: now) }
        #expect(cache.credential(tokenHash: "h0", now: now) == dana)
        cache.remember(dana, tokenHash: "h3", now: now)
        #expect(cache.credential(tokenHash: "h0", now: now) == nil)
        #expect(cache.credential(tokenHash: "h3", now: now) == dana)
    }
}
