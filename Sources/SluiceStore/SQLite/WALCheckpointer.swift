import Logging
import Synchronization

/// Copies an SQLite database's write-ahead log into the database file every `interval`, on a connection of its
/// own. `PASSIVE` checkpoints never wait for or block the writer on the store's connection, so the fsync a
/// checkpoint needs is off the path of every request (SQLite's automatic checkpoint runs inside a commit).
///
/// Under steady writes a checkpoint beside the writer never catches up: frames are appended while it copies, and
/// SQLite starts the log again from its beginning only when a commit finds every frame copied. The log then grows
/// without end, and every commit writes to new pages of the file — which the kernel must allocate and zero, a
/// tenth of the server's CPU in a load test. So once the log has passed `restartFrames`, each round finishes on
/// the writer's own connection, between two of its commits, what was appended during the checkpoint beside it:
/// nothing can append meanwhile, so the next commit starts the log again at its beginning, over pages the kernel
/// already holds. The writer pauses for that short checkpoint (its fsyncs included) at most once a round.
///
/// A log that starts again has its header synced by the commit that starts it: at a light load, where every
/// round copies the whole log, that was the first request after each round — an fsync (0.4–0.6 ms here) on
/// the path to its first token, and on that of every turn queued behind it. So once a round has copied every
/// frame, the checkpointer starts the log again itself, with a write of its own on the writer's connection.
final class WALCheckpointer: Sendable {
    private let connection: SQLiteConnection
    private let writer: SQLiteConnection
    private let restartFrames: Int
    private let loop: Mutex<Task<Void, Never>?> = Mutex(nil)
    private let count = Atomic<Int>(0)
    private let finishedOnWriter = Atomic<Int>(0)
    private let startedAgain = Atomic<Int>(0)
    private let stopped = Atomic<Bool>(false)
    private let logger: Logger

    private init(connection: SQLiteConnection, writer: SQLiteConnection, restartFrames: Int, logger: Logger) {
        self.connection = connection
        self.writer = writer
        self.restartFrames = restartFrames
        self.logger = logger
    }

    /// `writer`: the store's connection, which finishes each round's checkpoint once the log holds
    /// `restartFrames` frames (4 096 frames: 16 MiB of 4 KiB pages). `interval: nil` starts no loop
    /// (`checkpoint()` is then called by hand, in tests).
    static func start(
        path: String, writer: SQLiteConnection, interval: Duration? = .seconds(1), restartFrames: Int = 4_096,
        logger: Logger
    ) throws -> WALCheckpointer {
        let connection = try SQLiteConnection(path: path, label: "sluice.checkpointer")
        let checkpointer = WALCheckpointer(connection: connection, writer: writer, restartFrames: restartFrames, logger: logger)
        guard let interval else { return checkpointer }
        checkpointer.loop.withLock {
            $0 = Task { [checkpointer] in
                while !Task.isCancelled {
                    do { try await Task.sleep(for: interval) } catch { break }
                    await checkpointer.checkpoint()
                }
            }
        }
        return checkpointer
    }

    /// Checkpoints completed so far.
    var completed: Int { count.load(ordering: .relaxed) }

    /// Checkpoints finished on the writer's connection (rounds that found the log long).
    var finishedByWriter: Int { finishedOnWriter.load(ordering: .relaxed) }

    /// Times the checkpointer started a fully copied log again itself (`startLogAgainIfCopied`).
    var logsStartedAgain: Int { startedAgain.load(ordering: .relaxed) }

    /// One round: a `PASSIVE` checkpoint beside the writer, then, once the log has passed `restartFrames`, one
    /// on the writer's connection; a log left fully copied is started again.
    func checkpoint() async {
        do {
            let beside = try await connection.checkpoint()
            count.add(1, ordering: .relaxed)
            if let finished = try await restartIfLong(after: beside) {
                try await startLogAgainIfCopied(finished)
            } else {
                try await startLogAgainIfCopied(beside)
            }
        } catch {
            warn(error)
        }
    }

    /// Starts the log again (`SQLiteConnection.startLogAgain`) when a checkpoint copied every one of its frames.
    /// A log of one frame — the write that last started it, nothing since — is left as it is: an idle server
    /// writes nothing.
    func startLogAgainIfCopied(_ checkpoint: (logFrames: Int, copiedFrames: Int)) async throws {
        guard checkpoint.logFrames > 1, checkpoint.copiedFrames >= checkpoint.logFrames else { return }
        try await writer.startLogAgain()
        startedAgain.add(1, ordering: .relaxed)
    }

    /// Finishes on the writer's connection what a checkpoint `beside` it could not copy (the frames appended
    /// meanwhile), when the log holds `restartFrames` or more, so that the log can start again (`checkpoint()`
    /// then starts it; otherwise the writer's next commit would). Returns that checkpoint's report, or `nil` when
    /// the log was short.
    @discardableResult
    func restartIfLong(after beside: (logFrames: Int, copiedFrames: Int)) async throws -> (logFrames: Int, copiedFrames: Int)? {
        guard beside.logFrames >= restartFrames else { return nil }
        let started = ContinuousClock.now
        let finished = try await writer.checkpoint()
        finishedOnWriter.add(1, ordering: .relaxed)
        logger.debug("finished a checkpoint on the writer's connection", metadata: [
            "log_frames": "\(finished.logFrames)", "appended_meanwhile": "\(finished.logFrames - beside.logFrames)",
            "took": "\(ContinuousClock.now - started)",
        ])
        return finished
    }

    /// Stops the loop, copies what is left of the log, and closes the connection; once (later calls do nothing).
    func stop() async {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        let task = loop.withLock { task -> Task<Void, Never>? in
            defer { task = nil }
            return task
        }
        task?.cancel()
        await task?.value
        do {
            _ = try await connection.checkpoint()
        } catch {
            warn(error)
        }
        try? connection.close()
    }

    private func warn(_ error: any Error) {
        logger.warning("could not checkpoint the database's write-ahead log", metadata: ["error": "\(error)"])
    }
}
