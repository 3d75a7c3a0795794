import Foundation
import Hummingbird
import SluiceCore

/// Attempts per name, per client address or per server (`kind`): after `limit` within `window`, that key's tries are
/// refused until the oldest of them is `window` old, so that a password cannot be guessed at the speed of the network
/// (bcrypt already makes each try cost a few hundred milliseconds of a core). Counted in the database
/// (`SignInStore.attempts`), so that instances behind a balancer share one count. Two instances that check at the same
/// moment may both let a try through: the limit can be passed by one try per instance, never more.
struct SignInThrottle: Sendable {
    let store: any SignInStore
    /// What is counted: `name`, `address` or `sign-up`.
    let kind: String
    let limit: Int
    let window: Duration

    init(_ kind: String, store: any SignInStore, limit: Int = 5, window: Duration = .seconds(15 * 60)) {
        self.kind = kind
        self.store = store
        self.limit = limit
        self.window = window
    }

    /// How long `key` must wait before its next try; `nil` when it may try now.
    func wait(for key: String) async throws -> Duration? {
        let now = Date()
        let recent = try await store.attempts(kind: kind, key: Self.key(key), since: now.addingTimeInterval(-seconds))
        guard recent.count >= limit else { return nil }
        // The try that must leave the window before the count is under the limit again.
        let leaving = recent[recent.count - limit]
        return .milliseconds(max(1, Int((leaving.addingTimeInterval(seconds).timeIntervalSince(now) * 1000).rounded(.up))))
    }

    /// A try counted against `key`: a wrong password (or an unknown name), an account made.
    func failed(_ key: String) async throws {
        let now = Date()
        try await store.recordAttempt(kind: kind, key: Self.key(key), at: now, forgettingBefore: now.addingTimeInterval(-seconds))
    }

    /// The right password for `key`: its count starts again.
    func succeeded(_ key: String) async throws {
        try await store.clearAttempts(kind: kind, key: Self.key(key))
    }

    /// `429 code` with `Retry-After` for a wait of `wait`; `message` says what happened, given how long to wait in words.
    static func heldBack(_ wait: Duration, code: String, message: (String) -> String) -> APIError {
        let seconds = Int(wait.components.seconds) + 1
        var error = APIError(.tooManyRequests, code: code, message: message(seconds < 90 ? "\(seconds) seconds" : "\((seconds + 59) / 60) minutes"))
        error.headers[.retryAfter] = String(seconds)
        return error
    }

    private var seconds: TimeInterval { TimeInterval(window.components.seconds) }

    /// Names are counted as typed but without case, so that "Ann" and "ann" share their tries.
    private static func key(_ key: String) -> String { key.lowercased() }
}
