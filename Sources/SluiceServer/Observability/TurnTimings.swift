import HTTPTypes
import Synchronization

/// When the steps of one chat turn happened, from the request's arrival to the model's first token, for the
/// response's `Server-Timing` header: what Sluice itself spent before the upstream call (reading and
/// authenticating the request, the prompt guard, fitting the context and holding the budget with the message
/// stored, starting the generation) and what the model took to its first token. Browsers' developer tools show
/// the header; `sluice bench load` reads it. LiteLLM answers its `x-litellm-overhead-duration-ms` for the same
/// question: is the gateway or the model slow?
final class TurnTimings: Sendable {
    /// A step's end (or the guard's start); each is kept the first time it is marked, so a retry or a fallback
    /// does not move the upstream call's time.
    enum Mark: Int, CaseIterable {
        case guardStarted, guardEnded, held, upstreamCalled, firstToken
        /// The answer was read from the response cache (instead of an upstream call).
        case cacheRead
    }

    let received: ContinuousClock.Instant
    private let marks = Mutex<[ContinuousClock.Instant?]>(Array(repeating: nil, count: Mark.allCases.count))

    init(received: ContinuousClock.Instant) {
        self.received = received
    }

    func mark(_ mark: Mark, at instant: ContinuousClock.Instant = .now) {
        marks.withLock { marks in
            if marks[mark.rawValue] == nil { marks[mark.rawValue] = instant }
        }
    }

    /// The phases, in order, that both of their ends have been marked for: `name;dur=<ms>;desc="…"` (W3C Server
    /// Timing; no description has a comma, so splitting the header at commas finds its fields). `nil` when none has.
    var serverTiming: String? {
        let marks = marks.withLock { $0 }
        func at(_ mark: Mark) -> ContinuousClock.Instant? { marks[mark.rawValue] }
        let phases: [(String, ContinuousClock.Instant?, ContinuousClock.Instant?, String)] = [
            ("request", received, at(.guardStarted), "request read and authenticated"),
            ("guard", at(.guardStarted), at(.guardEnded), "prompt guard"),
            ("hold", at(.guardEnded), at(.held), "context fitted and budget held with the message stored"),
            ("start", at(.held), at(.upstreamCalled), "generation started"),
            ("overhead", received, at(.upstreamCalled), "Sluice before the upstream call"),
            ("upstream", at(.upstreamCalled), at(.firstToken), "the model to its first token (queue and retries included)"),
            ("cache", at(.held), at(.cacheRead), "the answer read from the response cache"),
        ]
        let fields = phases.compactMap { name, start, end, description -> String? in
            guard let start, let end else { return nil }
            return "\(name);dur=\(Self.milliseconds(end - start));desc=\"\(description)\""
        }
        return fields.isEmpty ? nil : fields.joined(separator: ", ")
    }

    /// Milliseconds with three decimals (microseconds), never negative.
    static func milliseconds(_ duration: Duration) -> String {
        let microseconds = max(0, duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000)
        let fraction = String(microseconds % 1000)
        return "\(microseconds / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}

extension HTTPField.Name {
    /// W3C Server Timing: how long the server's steps took (`TurnTimings.serverTiming`).
    static let serverTiming = Self("Server-Timing")!
}
