import Foundation
import HTTPTypes
import SluiceCore

extension RateLimits {
    /// Whole seconds, 1 to 60, until the window's oldest request leaves it (`now` may be a moment before the hold's).
    func secondsUntilWindowFrees(now: Date) -> Int {
        min(60, max(1, Int((oldestLeavesAt ?? now.addingTimeInterval(60)).timeIntervalSince(now).rounded(.up))))
    }

    /// OpenAI's `x-ratelimit-limit-`, `-remaining-` and `-reset-requests` (and `-tokens`) headers, for each of its two
    /// limits per minute the user has: on a refusal, and on every granted gateway call, so that a client can pace
    /// itself. The reset is when the window's oldest request leaves it, in OpenAI's form (`"12s"`).
    func addHeaders(to headers: inout HTTPFields, now: Date) {
        Self.addHeaders(of: [self], to: &headers, now: now)
    }

    /// The headers for several limits at once (the user's and its key's): for each kind, the one with the fewest
    /// left, which is the one a client must pace itself by.
    static func addHeaders(of sources: [RateLimits], to headers: inout HTTPFields, now: Date) {
        for kind in [Kind.requests, .tokens] {
            let tightest = sources.filter { $0.limit(kind) != nil }.min { ($0.remaining(kind) ?? 0) < ($1.remaining(kind) ?? 0) }
            guard let rates = tightest, let limit = rates.limit(kind) else { continue }
            headers[HTTPField.Name("x-ratelimit-limit-\(kind.rawValue)")!] = String(limit)
            headers[HTTPField.Name("x-ratelimit-remaining-\(kind.rawValue)")!] = String(rates.remaining(kind) ?? 0)
            headers[HTTPField.Name("x-ratelimit-reset-\(kind.rawValue)")!] = "\(rates.secondsUntilWindowFrees(now: now))s"
        }
    }
}
