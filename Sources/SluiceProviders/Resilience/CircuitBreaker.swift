import Foundation
import SluiceCore
import Synchronization

/// When to stop calling an upstream that keeps failing, and when to try it again.
public struct CircuitBreakerPolicy: Sendable, Equatable {
    /// Opens after this many failures in a row.
    public var consecutiveFailures: Int
    /// Or when at least `minimumCalls` of the last `window` calls were made and this share of them failed.
    public var failureRate: Double
    public var window: Int
    public var minimumCalls: Int
    /// How long it stays open before one probe call is let through (half-open).
    public var cooldown: Duration

    public init(
        consecutiveFailures: Int = 5, failureRate: Double = 0.5, window: Int = 20, minimumCalls: Int = 10,
        cooldown: Duration = .seconds(30)
    ) {
        self.consecutiveFailures = consecutiveFailures
        self.failureRate = failureRate
        self.window = window
        self.minimumCalls = minimumCalls
        self.cooldown = cooldown
    }
}

/// The state of one upstream's breaker, as the metric `sluice_circuit_state` shows it (0, 1, 2).
public enum CircuitState: Int, Sendable, Equatable {
    case closed = 0
    case open = 1
    case halfOpen = 2

    /// `closed`, `open` or `half_open`.
    public var name: String {
        switch self {
        case .closed: "closed"
        case .open: "open"
        case .halfOpen: "half_open"
        }
    }
}

/// A circuit breaker for one upstream: counts outcomes, opens on a run of failures or a high failure rate,
/// lets one probe through after the cooldown, and closes when the probe succeeds. It can also take another
/// instance's word that the upstream is down (`adopt`, from `CircuitSharing`).
public final class CircuitBreaker: Sendable {
    public let name: String
    public let policy: CircuitBreakerPolicy
    private let now: @Sendable () -> ContinuousClock.Instant
    private let onChange: @Sendable (CircuitState) -> Void
    private let onTrip: @Sendable (Duration) -> Void

    private struct State {
        var circuit = CircuitState.closed
        var openedAt: ContinuousClock.Instant?
        var consecutiveFailures = 0
        var recent: [Bool] = []  // true = failure, newest last
        var probeInFlight = false
    }
    private let state = Mutex(State())

    /// - Parameters:
    ///   - now: the clock (tests pass one they move by hand).
    ///   - onChange: told every new state (for the metric and the log).
    ///   - onTrip: told when the breaker opens on its own calls' failures, with how long it stays open (for the other
    ///     instances: `CircuitSharing`); not when it adopts another's.
    public init(
        name: String, policy: CircuitBreakerPolicy = CircuitBreakerPolicy(),
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now },
        onChange: @escaping @Sendable (CircuitState) -> Void = { _ in },
        onTrip: @escaping @Sendable (Duration) -> Void = { _ in }
    ) {
        self.name = name
        self.policy = policy
        self.now = now
        self.onChange = onChange
        self.onTrip = onTrip
    }

    /// Another instance found the upstream down: a closed breaker opens for `remaining` (then lets its own probe
    /// through, as after its own cooldown). An open or half-open one keeps its own course. Returns whether it opened.
    @discardableResult
    public func adopt(openFor remaining: Duration) -> Bool {
        guard remaining > .zero else { return false }
        let opened = state.withLock { state -> Bool in
            guard state.circuit == .closed else { return false }
            state.circuit = .open
            // The probe comes when the other instance's would: `remaining` from now, whatever this one's cooldown.
            state.openedAt = now() + remaining - policy.cooldown
            state.recent = []
            state.consecutiveFailures = 0
            return true
        }
        if opened { onChange(.open) }
        return opened
    }

    public var current: CircuitState { state.withLock { $0.circuit } }

    /// Whether a call may go out now; when not, how long until the breaker lets a probe through.
    public enum Admission: Sendable, Equatable {
        case allowed
        /// The single probe of a half-open breaker: its outcome decides.
        case probe
        case rejected(retryAfter: Duration)
    }

    public func admit() -> Admission {
        let (admission, changed) = state.withLock { state -> (Admission, CircuitState?) in
            switch state.circuit {
            case .closed:
                return (.allowed, nil)
            case .open:
                let reopensAt = (state.openedAt ?? now()) + policy.cooldown
                if now() < reopensAt { return (.rejected(retryAfter: reopensAt - now()), nil) }
                state.circuit = .halfOpen
                state.probeInFlight = true
                return (.probe, .halfOpen)
            case .halfOpen:
                if state.probeInFlight { return (.rejected(retryAfter: .seconds(1)), nil) }
                state.probeInFlight = true
                return (.probe, nil)
            }
        }
        if let changed { onChange(changed) }
        return admission
    }

    /// Records how an admitted call ended. `nil` means it ended without a verdict (cancelled by the client).
    public func record(failure: Bool?) {
        let changed = state.withLock { state -> CircuitState? in
            let wasProbe = state.circuit == .halfOpen
            if wasProbe { state.probeInFlight = false }
            guard let failure else { return nil }
            if wasProbe {
                state.recent = []
                state.consecutiveFailures = failure ? 1 : 0
                state.circuit = failure ? .open : .closed
                state.openedAt = failure ? now() : nil
                return state.circuit
            }
            state.recent.append(failure)
            if state.recent.count > policy.window { state.recent.removeFirst(state.recent.count - policy.window) }
            state.consecutiveFailures = failure ? state.consecutiveFailures + 1 : 0
            let failures = state.recent.filter { $0 }.count
            let rateTripped = state.recent.count >= policy.minimumCalls
                && Double(failures) / Double(state.recent.count) >= policy.failureRate
            guard state.circuit == .closed, state.consecutiveFailures >= policy.consecutiveFailures || rateTripped else {
                return nil
            }
            state.circuit = .open
            state.openedAt = now()
            return .open
        }
        if let changed {
            onChange(changed)
            if changed == .open { onTrip(policy.cooldown) }
        }
    }

    /// Which failures count against an upstream's health: it could not be reached, it failed (5xx, 529), or
    /// it is rate-limiting (429). Mistakes in the request (other 4xx) say nothing about its health.
    public static func countsAsFailure(_ error: any Error) -> Bool? {
        if error is CancellationError { return nil }
        guard let error = error as? ProviderError else { return true }
        if error.refusesImages { return false }
        switch error {
        case .http(let status, _, _): return status == 429 || status >= 500
        case .connection, .upstreamError, .malformed, .firstTokenTimeout: return true
        case .circuitOpen: return nil
        }
    }
}

/// A provider behind a circuit breaker: while the breaker is open, calls fail at once with `circuitOpen`
/// instead of waiting on an upstream that is down.
public struct CircuitBreakingProvider: ChatProvider {
    public let base: any ChatProvider
    public let breaker: CircuitBreaker

    public init(_ base: any ChatProvider, breaker: CircuitBreaker) {
        self.base = base
        self.breaker = breaker
    }

    public func streamChat(_ request: ChatRequest) -> ProviderStream {
        guarded { $0.streamChat(request) }
    }

    /// A text completion through the breaker, counted as a chat call is.
    public func streamText(_ request: TextCompletionRequest) -> ProviderStream {
        guarded { $0.streamText(request) }
    }

    /// The call `open` makes of the base provider, refused at once while the breaker is open; its outcome recorded.
    private func guarded(_ open: @escaping @Sendable (any ChatProvider) -> ProviderStream) -> ProviderStream {
        let breaker = self.breaker
        let base = self.base
        return ProviderStream {
            if case .rejected(let wait) = breaker.admit() {
                let error = Self.open(breaker, wait: wait)
                return .init { throw error }
            }
            let verdict = Verdict(breaker)
            // A call cancelled because the upstream sent nothing within the first-token timeout is its failure;
            // any other cancellation (a client that left) is no verdict.
            let watch = FirstTokenWatch.current
            let cancelled = { () -> Bool? in watch?.hasExpired == true ? true : nil }
            var events = open(base).makeAsyncIterator()
            return .init {
                do {
                    guard let event = try await events.next() else {
                        verdict.record(failure: Task.isCancelled ? cancelled() : false)
                        return nil
                    }
                    return event
                } catch {
                    verdict.record(failure: error is CancellationError ? cancelled() : CircuitBreaker.countsAsFailure(error))
                    throw error
                }
            }
        }
    }

    /// A JSON call (embeddings, rerank) through the breaker: refused at once while it is open; a failure of the
    /// upstream counts as one.
    public func send(_ call: UpstreamJSONCall) async throws -> [UInt8] {
        if case .rejected(let wait) = breaker.admit() { throw Self.open(breaker, wait: wait) }
        let verdict = Verdict(breaker)
        do {
            let response = try await base.send(call)
            verdict.record(failure: false)
            return response
        } catch {
            verdict.record(failure: error is CancellationError ? nil : CircuitBreaker.countsAsFailure(error))
            throw error
        }
    }

    /// The failure of a call the open breaker refused: when to try again, in whole seconds.
    private static func open(_ breaker: CircuitBreaker, wait: Duration) -> ProviderError {
        let seconds = max(1, Int(wait.components.seconds) + (wait.components.attoseconds > 0 ? 1 : 0))
        return ProviderError.circuitOpen(upstream: breaker.name, retryAfterSeconds: seconds)
    }

    /// Tells the breaker how one admitted call went, once; a call abandoned before its end counts as neither
    /// (so a half-open probe that nobody finished frees the way for the next).
    private final class Verdict {
        private let breaker: CircuitBreaker
        private var recorded = false

        init(_ breaker: CircuitBreaker) { self.breaker = breaker }

        func record(failure: Bool?) {
            guard !recorded else { return }
            recorded = true
            breaker.record(failure: failure)
        }

        deinit { if !recorded { breaker.record(failure: nil) } }
    }

    public func checkReady() async throws { try await base.checkReady() }

    public func readiness(named name: String) async -> [UpstreamReadiness] {
        let circuit = breaker.current.name
        return await base.readiness(named: name).map { upstream in
            var upstream = upstream
            upstream.circuit = circuit
            return upstream
        }
    }
}
