import Logging
import ServiceLifecycle
import SluiceCore
import Synchronization

/// Saves the growing text of every running answer in batches: the first text recorded after a quiet spell waits
/// one interval, so that whatever the other answers record meanwhile goes into the same write. With N answers
/// streaming that is one write per interval instead of N; a crash still loses at most about two intervals of
/// each answer. Each answer's final state is written by its turn, directly (`forget` first).
public final class ProgressWriter: Service, Sendable {
    private let store: any ConversationStore
    private let interval: Duration
    private let logger: Logger
    /// The newest text of each answer since the last write.
    private let pending = Mutex<[String: ProgressUpdate]>([:])
    /// Wakes `run()` when text arrives while nothing was pending.
    private let wake: AsyncStream<Void>.Continuation
    private let wakes: AsyncStream<Void>
    private let writes = Atomic<Int>(0)

    public init(store: any ConversationStore, interval: Duration, logger: Logger) {
        self.store = store
        self.interval = interval
        self.logger = logger
        (wakes, wake) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Keeps `update` for the next write, replacing the answer's earlier text if that was not written yet.
    func record(_ update: ProgressUpdate) {
        let wasIdle = pending.withLock { pending in
            let wasIdle = pending.isEmpty
            pending[update.messageID] = update
            return wasIdle
        }
        if wasIdle { wake.yield() }
    }

    /// Drops the answer's unwritten text: its turn is about to write the final state.
    func forget(messageID: String) {
        _ = pending.withLock { $0.removeValue(forKey: messageID) }
    }

    /// Writes everything pending in one `saveProgress`.
    func flush() async {
        let updates = pending.withLock { pending -> [ProgressUpdate] in
            defer { pending.removeAll(keepingCapacity: true) }
            return Array(pending.values)
        }
        guard !updates.isEmpty else { return }
        do {
            try await store.saveProgress(updates)
            writes.add(1, ordering: .relaxed)
        } catch {
            // Not fatal: each answer's final write carries its whole text.
            logger.warning("could not save the progress of running answers", metadata: [
                "answers": "\(updates.count)", "error": "\(error)",
            ])
        }
    }

    /// Batches written so far.
    var writesDone: Int { writes.load(ordering: .relaxed) }

    public func run() async {
        for await _ in wakes.cancelOnGracefulShutdown() {
            // Gathers what the other answers record meanwhile; a shutdown cuts the wait short.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            await flush()
        }
        await flush()
    }
}
