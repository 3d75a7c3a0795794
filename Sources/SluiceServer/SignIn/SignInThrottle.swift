import Hummingbird
import Synchronization

/// Wrong passwords per name (or per client address): after `limit` within `window`, that name's sign-ins are refused
/// until the oldest of them is `window` old, so that a password cannot be guessed at the speed of the network (bcrypt already makes each try
/// cost a few hundred milliseconds of a core). Counted per instance, in memory: several instances behind a balancer
/// allow that many tries each. A right password clears the count.
final class SignInThrottle: Sendable {
    let limit: Int
    let window: Duration
    /// Past this many names the oldest counts are dropped (a flood of made-up names cannot grow it without bound).
    let capacity: Int
    private let failures = Mutex<[String: [ContinuousClock.Instant]]>([:])

    init(limit: Int = 5, window: Duration = .seconds(15 * 60), capacity: Int = 10_000) {
        self.limit = limit
        self.window = window
        self.capacity = capacity
    }

    /// How long `name` must wait before its next try; `nil` when it may try now.
    func wait(for name: String, now: ContinuousClock.Instant) -> Duration? {
        failures.withLock { failures in
            let key = Self.key(name)
            let recent = (failures[key] ?? []).filter { now - $0 < window }
            failures[key] = recent.isEmpty ? nil : recent
            guard recent.count >= limit, let oldest = recent.first else { return nil }
            return window - (now - oldest)
        }
    }

    /// A wrong password (or an unknown name) for `name`.
    func failed(_ name: String, now: ContinuousClock.Instant) {
        failures.withLock { failures in
            if failures.count >= capacity { failures.removeAll(keepingCapacity: true) }
            let key = Self.key(name)
            failures[key, default: []].append(now)
            if failures[key]!.count > limit { failures[key]!.removeFirst() }
        }
    }

    /// The right password for `name`: its count starts again.
    func succeeded(_ name: String) {
        _ = failures.withLock { $0.removeValue(forKey: Self.key(name)) }
    }

    /// `429 code` with `Retry-After` for a wait of `wait`; `message` says what happened, given how long to wait in words.
    static func heldBack(_ wait: Duration, code: String, message: (String) -> String) -> APIError {
        let seconds = Int(wait.components.seconds) + 1
        var error = APIError(.tooManyRequests, code: code, message: message(seconds < 90 ? "\(seconds) seconds" : "\((seconds + 59) / 60) minutes"))
        error.headers[.retryAfter] = String(seconds)
        return error
    }

    /// Names are counted as typed but without case, so that "Ann" and "ann" share their tries.
    private static func key(_ name: String) -> String { name.lowercased() }
}
