import Logging
import ServiceLifecycle
import SluiceCore
import Synchronization

/// Runs generations independently of the HTTP requests that started them, so an answer keeps being
/// written (and stored) when the browser goes away, and can be followed again by another request.
/// The generations are child tasks of `run()`: structured, and cancelled together on shutdown (each then
/// stores what it has as `partial`).
public final class GenerationHub: Service {
    private let running = Mutex<[String: LiveGeneration]>([:])
    private typealias Job = (executor: (any TaskExecutor)?, run: @Sendable () async -> Void)
    private let jobs: AsyncStream<Job>
    private let submitJob: AsyncStream<Job>.Continuation
    private let logger: Logger

    public init(logger: Logger = Logger(label: "sluice.generations")) {
        (jobs, submitJob) = AsyncStream.makeStream()
        self.logger = logger
    }

    public func run() async {
        await withDiscardingTaskGroup { group in
            for await job in jobs.cancelOnGracefulShutdown() {
                group.addTask(executorPreference: job.executor) { await job.run() }
            }
            // Shutting down: stop the generations still running; each stores its text as partial.
            let count = running.withLock { $0.count }
            if count > 0 { logger.notice("stopping running generations for shutdown", metadata: ["count": "\(count)"]) }
            group.cancelAll()
        }
    }

    /// Starts `turn` for `plan`; returns the live generation and a follower that sees every event from the start.
    /// `executor`: where the generation prefers to run — the event loop of the client that asked, so that a
    /// token goes from the upstream's socket to the client's without a thread hop while that client follows it.
    func start(_ turn: ChatTurn, plan: ChatTurn.Plan, on executor: (any TaskExecutor)? = nil) -> (LiveGeneration, EventFeed) {
        let generation = LiveGeneration(messageID: plan.assistantMessageID)
        let firstFollower = generation.follow(after: 0)
        running.withLock { $0[plan.assistantMessageID] = generation }
        submitJob.yield((executor, { [self] in
            await turn.run(plan, control: generation.control) { generation.publish($0) }
            _ = running.withLock { $0.removeValue(forKey: plan.assistantMessageID) }
        }))
        return (generation, firstFollower)
    }

    /// The live generation of an assistant message, if it is running in this process.
    func generation(_ messageID: String) -> LiveGeneration? {
        running.withLock { $0[messageID] }
    }

    /// Stops a running generation on the user's request; false when none runs here.
    func cancel(_ messageID: String) -> Bool {
        guard let generation = generation(messageID) else { return false }
        generation.control.stop(.userCancelled)
        return true
    }

    var runningCount: Int { running.withLock { $0.count } }
}
