import Synchronization

/// What a Sluice asked to stop does with the answers it is writing: it lets them finish for `grace`, and only then
/// stops those still running (their text so far stored as `partial`, their holds settled for what they used) — what a
/// rolling restart behind a load balancer expects of each instance, and what `docker stop` or Kubernetes (SIGTERM,
/// then SIGKILL after 30 s) give time for.
///
/// `begin()` starts the grace (the first SIGTERM or SIGINT; `sluice serve` listens for them), `hurry()` ends it at
/// once (a second one: Ctrl-C twice). `GenerationHub` waits on it; nothing happens until `begin()` is called, so an
/// application built without signals (the tests') stops its generations at shutdown as before.
public final class ShutdownDrain: Sendable {
    /// How long the answers running when the drain began (or starting during it) may take to finish.
    public let grace: Duration

    private enum Phase: Int, Comparable {
        case serving, draining, hurried
        static func < (lhs: Phase, rhs: Phase) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    private let phase = Mutex(Phase.serving)
    private let began: Signal
    private let hurried: Signal

    public init(grace: Duration) {
        self.grace = grace
        began = Signal()
        hurried = Signal()
    }

    /// Starts the grace; later calls do nothing.
    public func begin() {
        guard advance(to: .draining) else { return }
        began.fire()
    }

    /// Ends the grace now (and begins the drain if it had not begun).
    public func hurry() {
        guard advance(to: .hurried) else { return }
        began.fire()
        hurried.fire()
    }

    /// The next step for a shutdown signal: the first begins the drain, the next hurries it. Returns what it did.
    @discardableResult
    public func signalled() -> Step {
        if hasBegun {
            hurry()
            return .hurried
        }
        begin()
        return .began
    }

    public enum Step: Sendable, Equatable {
        case began, hurried
    }

    /// Whether the drain has begun: `/readyz` says `draining`, and followers of answers written elsewhere end.
    public var hasBegun: Bool { phase.withLock { $0 >= .draining } }

    /// Returns once the drain has begun, or when the calling task is cancelled.
    func waitForBegin() async { await began.wait() }

    /// Returns once the drain was hurried, or when the calling task is cancelled.
    func waitForHurry() async { await hurried.wait() }

    private func advance(to next: Phase) -> Bool {
        phase.withLock { current in
            guard current < next else { return false }
            current = next
            return true
        }
    }

    /// Fires once; every waiter, earlier or later, returns. (An `AsyncStream` would do for one waiter, not for several.)
    private final class Signal: Sendable {
        private struct State {
            var fired = false
            var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
            var nextID = 0
        }
        private let state = Mutex(State())

        func fire() {
            let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
                guard !state.fired else { return [] }
                state.fired = true
                defer { state.waiters = [:] }
                return Array(state.waiters.values)
            }
            for waiter in waiters { waiter.resume() }
        }

        func wait() async {
            let id = state.withLock { state in
                state.nextID += 1
                return state.nextID
            }
            await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    // A cancellation that came before the waiter was kept finds nothing to resume: it is seen here.
                    let now = state.withLock { state in
                        if state.fired || Task.isCancelled { return true }
                        state.waiters[id] = continuation
                        return false
                    }
                    if now { continuation.resume() }
                }
            } onCancel: {
                state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
            }
        }
    }
}
