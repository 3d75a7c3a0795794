import Foundation
import SluiceCore
import Synchronization

/// When each signed-in browser was last active, for its list (GitHub's "Last accessed"), and its session kept for
/// `lifetime` from then, so that a browser in use stays signed in and one left unused for that long is signed out: a
/// token read from the store (the credential cache's misses, at most every 5 s per token) is written down as active
/// now — at most once per `interval` per token on an instance, so that a busy browser costs the store one small write
/// every few minutes, not one per request. A user's own token or a key matches no session and changes nothing.
final class SessionActivity: Sendable {
    let store: any SignInStore
    /// How long a session lasts after its last use (`--session-days`).
    let lifetime: Duration
    let interval: Duration
    /// Past this many tokens the memory of writes starts over (a flood of tokens cannot grow it without bound).
    let capacity: Int
    private let written = Mutex<[String: ContinuousClock.Instant]>([:])

    init(store: any SignInStore, lifetime: Duration, interval: Duration = .seconds(300), capacity: Int = 10_000) {
        self.store = store
        self.lifetime = lifetime
        self.interval = interval
        self.capacity = capacity
    }

    /// The token with this hash was just used: written down unless it was within `interval`. A failed write is left
    /// alone: a time in a list is not worth refusing a request over.
    func used(tokenHash: String) async {
        let now = ContinuousClock.now
        let due = written.withLock { written in
            if let last = written[tokenHash], now - last < interval { return false }
            if written.count >= capacity { written.removeAll(keepingCapacity: true) }
            written[tokenHash] = now
            return true
        }
        guard due else { return }
        let at = Date.nowToTheMillisecond
        try? await store.markSessionActive(
            tokenHash: tokenHash, at: at, expiresAt: at.addingTimeInterval(TimeInterval(lifetime.components.seconds)))
    }
}
