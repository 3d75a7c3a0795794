import Foundation
import SluiceCore
import Testing

@testable import SluiceServer

/// The token cache answers for `lifetime` after a store lookup, then asks the store again.
struct TokenCacheTests {
    let dana = User(id: "u1", name: "dana", plan: .free, createdAt: Date(timeIntervalSince1970: 0))

    @Test func aRememberedUserIsFoundUntilTheLifetimeEnds() {
        let cache = TokenCache(lifetime: .seconds(5))
        let start = ContinuousClock.now
        #expect(cache.user(tokenHash: "h", now: start) == nil)
        cache.remember(dana, tokenHash: "h", now: start)
        #expect(cache.user(tokenHash: "h", now: start + .seconds(4)) == dana)
        #expect(cache.user(tokenHash: "other", now: start + .seconds(4)) == nil)
        #expect(cache.user(tokenHash: "h", now: start + .seconds(5)) == nil)
        // Expired entries are gone, not revived.
        #expect(cache.user(tokenHash: "h", now: start + .seconds(1)) == nil)
    }

    @Test func aFloodOfTokensCannotGrowItPastItsCapacity() {
        let cache = TokenCache(lifetime: .seconds(5), capacity: 3)
        let now = ContinuousClock.now
        for index in 0..<3 { cache.remember(dana, tokenHash: "h\(index)", now: now) }
        #expect(cache.user(tokenHash: "h0", now: now) == dana)
        cache.remember(dana, tokenHash: "h3", now: now)
        #expect(cache.user(tokenHash: "h0", now: now) == nil)
        #expect(cache.user(tokenHash: "h3", now: now) == dana)
    }
}
