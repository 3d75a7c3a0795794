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

    private let began = Signal()
    private let hurried = Signal()

    public init(grace: Duration) {
        self.grace = grace
    }

    /// Starts the grace; later calls do nothing.
    public func begin() {
        began.fire()
    }

    /// Ends the grace now (and begins the drain if it had not begun).
    public func hurry() {
        began.fire()
        hurried.fire()
    }

    /// The next step for a shutdown signal: the first begins the drain, the next hurries it. Returns what it did.
    @discardableResult
    public func signalled() -> Step {
        if began.fire() { return .began }
        hurried.fire()
        return .hurried
    }

    public enum Step: Sendable, Equatable {
        case began, hurried
    }

    /// What a call still running when the grace is over ends with (`UpstreamRelay`'s): the client is told that Sluice
    /// stopped, as an answer of the generation hub is.
    struct GraceOver: Error {
        /// The code of the error the client gets (`ErrorMapping`), as for an answer of the hub stopped the same way.
        static let code = "interrupted"
    }

    /// Whether the drain has begun: `/readyz` says `draining`, and followers of answers written elsewhere end.
    public var hasBegun: Bool { began.hasFired }

    /// Returns once the drain has begun, or when the calling task is cancelled.
    func waitForBegin() async { await began.wait() }

    /// Returns once the answers still running must stop — the grace has passed since the drain began, or the drain
    /// was hurried — or when the calling task is cancelled.
    func waitForGraceEnd() async {
        await began.wait()
        guard !Task.isCancelled else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: self.grace) }
            group.addTask { await self.hurried.wait() }
            await group.next()
            group.cancelAll()
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

        var hasFired: Bool { state.withLock { $0.fired } }

        /// Fires the signal; returns whether this call did (false: it had fired before).
        @discardableResult
        func fire() -> Bool {
            let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>]? in
                guard !state.fired else { return nil }
                state.fired = true
                defer { state.waiters = [:] }
                return Array(state.waiters.values)
            }
            guard let waiters else { return false }
            for waiter in waiters { waiter.resume() }
            return true
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
