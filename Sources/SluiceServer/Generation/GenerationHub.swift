import Logging
import ServiceLifecycle
import SluiceCore
import SluiceProviders
import Synchronization

/// Runs generations independently of the HTTP requests that started them, so an answer keeps being
/// written (and stored) when the browser goes away, and can be followed again by another request.
///
/// Each generation is a task of its own, started in place and continuing on the event loop of the client that
/// asked, kept here until it ends; `run()` waits for shutdown, then cancels the generations still running and
/// waits for each to store what it has as `partial` — what a task group in `run()` would do. With a `drain`
/// (`sluice serve`'s), the generations running when Sluice is asked to stop get its grace to finish first: the
/// server has stopped taking connections by then, and its shutdown waits for the answers it streams. A group would cost a
/// turn one more scheduling hop before its upstream call: `run()`'s task has to wake to add each child (measured at
/// 10 concurrent turns: 276 µs p50, 2.5 ms p90 from start to the generation running, against 130–150 µs and 0.6–1 ms).
public final class GenerationHub: Service {
    private struct Running {
        var generations: [String: LiveGeneration] = [:]
        var tasks: [String: Task<Void, Never>] = [:]
        /// Set once shutdown began: a generation started later is cancelled at once.
        var stopping = false
        /// Generations registered whose task is not stored yet (`start` runs it in place first, outside the lock).
        var starting = 0
        /// The most generations that ran at once since `takeActivity()` last looked.
        var peak = 0
        /// How many ran when the drain began, and whether its grace ran out (or was cut short) with some still running.
        var drained = 0
        var stoppedAfterGrace = false
    }

    private let running = Mutex(Running())
    private let logger: Logger
    let drain: ShutdownDrain?

    public init(drain: ShutdownDrain? = nil, logger: Logger = Logger(label: "sluice.generations")) {
        self.drain = drain
        self.logger = logger
    }

    public func run() async {
        // Until shutdown begins, or this service is cancelled: either way the generations stop. The hub's turn to
        // shut down comes after the server's, which waits for the answers it streams: the drain's grace, when it
        // has begun, is what bounds that wait.
        await withDiscardingTaskGroup { group in
            if let drain { group.addTask { await self.stopAfterGrace(drain) } }
            try? await gracefulShutdown()
            group.cancelAll()
        }
        let (drained, stoppedAfterGrace) = running.withLock { ($0.drained, $0.stoppedAfterGrace) }
        if drained > 0, !stoppedAfterGrace { logger.notice("the answers running when Sluice was asked to stop have finished") }
        await stopAll()
    }

    /// Once the drain begins, waits for its grace (or a hurry), then stops whatever still runs.
    private func stopAfterGrace(_ drain: ShutdownDrain) async {
        await drain.waitForBegin()
        guard !Task.isCancelled else { return }
        let count = running.withLock { state in
            state.drained = state.generations.count
            return state.drained
        }
        if count > 0 {
            logger.notice("Sluice was asked to stop: letting the running answers finish (a second SIGTERM or Ctrl-C stops them now, their text so far kept)", metadata: [
                "count": "\(count)", "grace_seconds": "\(drain.grace.components.seconds)",
            ])
        }
        await drain.waitForGraceEnd()
        guard !Task.isCancelled else { return }
        running.withLock { $0.stoppedAfterGrace = !$0.generations.isEmpty }
        await stopAll()
    }

    /// Cancels every running generation (and any started from now on) and waits for each to store what it has.
    private func stopAll() async {
        var logged = false
        while true {
            let (tasks, starting) = running.withLock { state in
                state.stopping = true
                return (Array(state.tasks.values), state.starting)
            }
            if tasks.isEmpty {
                if starting == 0 { return }
                // A start began before `stopping` and is storing its task: a matter of microseconds.
                await Task.yield()
                continue
            }
            if !logged { logger.notice("stopping running generations for shutdown", metadata: ["count": "\(tasks.count)"]) }
            logged = true
            for task in tasks { task.cancel() }
            for task in tasks { await task.value }
        }
    }

    /// Starts `turn` for `plan`; returns the live generation and a follower that sees every event from the start.
    /// `executor`: where the generation prefers to run — the event loop of the client that asked, so that a
    /// token goes from the upstream's socket to the client's without a thread hop while that client follows it.
    func start(_ turn: ChatTurn, plan: ChatTurn.Plan, on executor: (any TaskExecutor)? = nil) -> (LiveGeneration, EventFeed) {
        let id = plan.assistantMessageID
        let generation = LiveGeneration(messageID: id)
        let firstFollower = generation.follow(after: 0)
        let stopping = running.withLock { state in
            state.generations[id] = generation
            state.starting += 1
            state.peak = max(state.peak, state.generations.count)
            return state.stopping
        }
        // The upstream connection on the client's loop too (`UpstreamHTTPClient.preferredEventLoop`).
        let clientLoop = (executor as? EventLoopExecutor)?.eventLoop
        let body = { @Sendable [self] in
            await UpstreamHTTPClient.$preferredEventLoop.withValue(clientLoop) {
                await turn.run(plan, control: generation.control) { generation.publish($0) }
            }
            running.withLock { state in
                state.generations[id] = nil
                state.tasks[id] = nil
            }
        }
        // Started in place, on the caller's thread up to its first wait (the upstream call's), and on `executor`
        // from there: the way to the upstream call takes no trip through the event loop's queue, behind what the
        // other turns on it have queued (measured at 10 concurrent turns: the `start` step of `Server-Timing`,
        // docs/benchmarks.md). Outside the lock, because the task takes it when it ends. During shutdown it is
        // only enqueued, and cancelled before its first step (so it calls no upstream).
        // Enqueued during shutdown, it cancels itself as its first step: cancelling it from here after `Task` returned
        // raced a free thread that had already started it (seen in CI: such a turn read its first token).
        let task = stopping
            ? Task(executorPreference: executor) {
                withUnsafeCurrentTask { $0?.cancel() }
                await body()
            }
            : Task.immediate(executorPreference: executor, operation: body)
        running.withLock { state in
            state.starting -= 1
            if state.stopping { task.cancel() }
            // Kept while it runs, for shutdown to cancel and wait for; one that already ended has removed its
            // entry and must not leave its task here.
            if state.generations[id] === generation { state.tasks[id] = task }
        }
        return (generation, firstFollower)
    }

    /// The live generation of an assistant message, if it is running in this process.
    func generation(_ messageID: String) -> LiveGeneration? {
        running.withLock { $0.generations[messageID] }
    }

    /// Stops a running generation on the user's request; false when none runs here.
    func cancel(_ messageID: String) -> Bool {
        guard let generation = generation(messageID) else { return false }
        generation.control.stop(.userCancelled)
        return true
    }

    var runningCount: Int { running.withLock { $0.generations.count } }

    /// How many generations run now, and the most that ran at once since the last call (`IdleMemoryReturner`).
    func takeActivity() -> (running: Int, peak: Int) {
        running.withLock { state in
            defer { state.peak = state.generations.count }
            return (state.generations.count, state.peak)
        }
    }
}
