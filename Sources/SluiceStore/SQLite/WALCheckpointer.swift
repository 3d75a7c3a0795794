import Logging
import Synchronization

/// Copies an SQLite database's write-ahead log into the database file every `interval`, on a connection of its
/// own. `PASSIVE` checkpoints never wait for or block the writer on the store's connection, so the fsync a
/// checkpoint needs is off the path of every request (SQLite's automatic checkpoint runs inside a commit).
final class WALCheckpointer: Sendable {
    private let connection: SQLiteConnection
    private let loop: Mutex<Task<Void, Never>?> = Mutex(nil)
    private let count = Atomic<Int>(0)
    private let logger: Logger

    private init(connection: SQLiteConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    static func start(path: String, interval: Duration = .seconds(1), logger: Logger) throws -> WALCheckpointer {
        let connection = try SQLiteConnection(path: path, label: "sluice.checkpointer")
        let checkpointer = WALCheckpointer(connection: connection, logger: logger)
        checkpointer.loop.withLock {
            $0 = Task { [checkpointer] in
                while !Task.isCancelled {
                    do { try await Task.sleep(for: interval) } catch { break }
                    await checkpointer.checkpoint("PASSIVE")
                }
            }
        }
        return checkpointer
    }

    /// Checkpoints completed so far.
    var completed: Int { count.load(ordering: .relaxed) }

    private func checkpoint(_ mode: String) async {
        do {
            try await connection.execute("PRAGMA wal_checkpoint(\(mode))")
            count.add(1, ordering: .relaxed)
        } catch {
            logger.warning("could not checkpoint the database's write-ahead log", metadata: ["error": "\(error)"])
        }
    }

    /// Stops the loop, copies what is left of the log, and closes the connection.
    func stop() async {
        let task = loop.withLock { task -> Task<Void, Never>? in
            defer { task = nil }
            return task
        }
        guard let task else { return }
        task.cancel()
        await task.value
        await checkpoint("PASSIVE")
        try? connection.close()
    }
}
