import Foundation
import SluiceCore

/// When and how long Sluice waits before asking an upstream again. Applies only before the first token has
/// reached the client: once text is on screen, a failure ends the turn (partial kept) instead.
public struct RetryPolicy: Sendable {
    /// Retries after the first attempt.
    public var maxRetries: Int
    /// The most Sluice waits in total across all retries of one turn.
    public var maxTotalWait: Duration
    /// First back-off step for 429 without `Retry-After`, 5xx and connection failures; doubles each retry.
    public var baseDelay: Duration
    /// First back-off step for 503 and 529 (overloaded), which need longer to recover.
    public var overloadedBaseDelay: Duration
    /// No single wait is longer than this.
    public var maxDelay: Duration
    /// Each computed back-off is multiplied by a random factor in `1 ± jitter`, so clients do not retry in step.
    public var jitter: Double

    public init(
        maxRetries: Int = 5, maxTotalWait: Duration = .seconds(60), baseDelay: Duration = .seconds(1),
        overloadedBaseDelay: Duration = .seconds(2), maxDelay: Duration = .seconds(32), jitter: Double = 0.2
    ) {
        self.maxRetries = maxRetries
        self.maxTotalWait = maxTotalWait
        self.baseDelay = baseDelay
        self.overloadedBaseDelay = overloadedBaseDelay
        self.maxDelay = maxDelay
        self.jitter = jitter
    }

    /// No retries at all.
    public static let none = RetryPolicy(maxRetries: 0)

    enum Decision: Equatable {
        /// Wait this long, then try again; `reason` names the failure for the client's status line.
        case retry(after: Duration, reason: String)
        /// Do not retry; use this failure if given, else the ordinary mapping of the error.
        case giveUp(TurnEvent.Failure?)
    }

    /// Decides what to do after `error` when `retriesSoFar` retries have already waited `waitedSoFar` in total.
    func decide(
        after error: any Error, retriesSoFar: Int, waitedSoFar: Duration, now: Date = Date(),
        random: () -> Double = { Double.random(in: 0...1) }
    ) -> Decision {
        guard let error = error as? ProviderError, !error.refusesImages else { return .giveUp(nil) }
        let reason: String
        let base: Duration
        var requested: Duration?
        switch error {
        case .http(let status, _, let retryAfter):
            switch status {
            case 429:
                reason = "rate_limited"
                base = baseDelay
                requested = retryAfter.flatMap { Self.parseRetryAfter($0, now: now) }
            case 503, 529:
                reason = "overloaded"
                base = overloadedBaseDelay
                requested = retryAfter.flatMap { Self.parseRetryAfter($0, now: now) }
            case 500, 502, 504:
                reason = "server_error"
                base = baseDelay
            default:
                return .giveUp(nil)
            }
        case .connection:
            reason = "connection_failed"
            base = baseDelay
        case .circuitOpen(_, let seconds):
            // Wait for the breaker's probe moment, like a Retry-After, if it fits what is left to wait.
            reason = "circuit_open"
            base = overloadedBaseDelay
            requested = .seconds(seconds)
        case .upstreamError, .malformed:
            return .giveUp(nil)
        case .firstTokenTimeout:
            // The user has already waited a whole timeout: the next model in the chain, if any, goes next
            // instead of another full wait on the one that did not answer.
            return .giveUp(nil)
        }
        guard retriesSoFar < maxRetries else { return .giveUp(nil) }
        let remaining = maxTotalWait - waitedSoFar
        if let requested {
            // The upstream said how long; waiting less would only be refused again.
            guard requested <= remaining else {
                let seconds = Int((Double(requested.components.seconds) + 0.999).rounded(.down))
                return .giveUp(TurnEvent.Failure(
                    code: "rate_limited",
                    message: "The model service asked Sluice to wait \(seconds) s before trying again, longer than Sluice waits for one answer (\(Int(maxTotalWait.components.seconds)) s). Try again in about \(Self.humanDuration(seconds)).",
                    retryable: true, partial: false))
            }
            return .retry(after: requested, reason: reason)
        }
        let nominal = min(base * (1 << min(retriesSoFar, 20)), maxDelay)
        let factor = 1 + jitter * (2 * random() - 1)
        let wait = nominal * factor
        guard wait <= remaining else { return .giveUp(nil) }
        return .retry(after: wait, reason: reason)
    }

    /// `Retry-After` as delta-seconds or an HTTP-date (RFC 9110 §10.2.3); `nil` when unreadable.
    static func parseRetryAfter(_ value: String, now: Date) -> Duration? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(trimmed), seconds >= 0 { return .milliseconds(Int(seconds * 1000)) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: trimmed) {
                return .milliseconds(max(0, Int(date.timeIntervalSince(now) * 1000)))
            }
        }
        return nil
    }

    static func humanDuration(_ seconds: Int) -> String {
        seconds < 90 ? "\(seconds) seconds" : "\((seconds + 59) / 60) minutes"
    }
}
