import Foundation
import Logging
import ServiceLifecycle
import SluiceCore
import Synchronization

/// How an answer ended, to be stored: its hold settled for what it used and its text, status and usage written,
/// in one commit when it has a hold (`BudgetStore.settle(…finishing:)`). A call that stores no answer — a text
/// completion, an embeddings or rerank call, a title — ends with its hold's settle alone.
struct AnswerEnd: Sendable {
    /// The hold and what it is settled for; `nil` for an answer without one.
    struct Settlement: Sendable, Codable {
        let holdID: String
        let inputTokens: Int
        let outputTokens: Int
        let cachedInputTokens: Int
        let cost: USDAmount
        let saved: CacheSavings?
        let at: Date
    }

    let settlement: Settlement?
    /// `nil` for a call that stores no answer.
    let answer: AnswerFinish?
    /// The excerpts of project files the answer was sent, written after its end (kept and written again with it).
    var sources: [ExcerptSource] = []

    /// Stores it: settled with its answer in one commit, or — without a hold or budgets — the answer alone, and the
    /// thread key of a gateway conversation after it (without the key the caller's next call starts a new
    /// conversation: nothing is lost); then its sources and what its call masked.
    func store(in store: any ConversationStore, budgets: (any BudgetStore)?) async throws {
        if let settlement, let budgets {
            try await budgets.settle(
                holdID: settlement.holdID, inputTokens: settlement.inputTokens, outputTokens: settlement.outputTokens,
                cachedInputTokens: settlement.cachedInputTokens, cost: settlement.cost, now: settlement.at, finishing: answer,
                saved: settlement.saved)
        } else if let answer {
            try await store.finish(messageID: answer.messageID, outcome: answer.outcome)
            if let thread = answer.thread {
                try? await store.setThreadKey(conversationID: thread.conversationID, threadKey: thread.key)
            }
        }
        if let answer, !sources.isEmpty { try await store.setSources(messageID: answer.messageID, sources: sources) }
        if let answer, let masked = answer.outcome.personalDataMasked, !masked.isEmpty {
            try await store.setPersonalDataMasked(messageID: answer.messageID, counts: masked)
        }
    }

    /// Only the answer, for when its settle failed for a reason that writing again would not mend; `nil` without one.
    var answerAlone: AnswerEnd? { answer.map { AnswerEnd(settlement: nil, answer: $0, sources: sources) } }

    /// What the logs name it by: its answer, or its hold.
    var name: String { answer.map { "message \($0.messageID)" } ?? settlement.map { "hold \($0.holdID)" } ?? "nothing" }
}

/// The ends of answers that the database did not take when they came — PostgreSQL restarting or failing over, a
/// network cut, a full disk — kept in memory and written again until it takes them, so that an answer streamed
/// whole during an outage is not left `streaming` with the text of its last progress write and its hold unsettled,
/// and a call that stores no answer (a text completion, embeddings, a title) is charged what it used.
///
/// Each write may take `attemptLimit`: while PostgreSQL is down, postgres-nio's pool waits up to a minute for a
/// connection (measured: 61 s), and the turn's `done` waits for the first write. Written again after `firstWait`,
/// then after a wait that doubles up to `longestWait`; given up after `givingUpAfter` (a hold has expired by then,
/// and an error that lasts so long is no outage). At shutdown, once more. With a `spool` the kept ends are in a file
/// too, and what is still unsaved when the process ends — stopped, killed or crashed — is written at the next start
/// (`prepareStore`); without one it is logged, and the next start's recovery keeps those answers as `partial` with
/// the text they have.
public final class UnsavedAnswerEnds: Service, Sendable {
    private struct Kept: Sendable {
        let end: AnswerEnd
        let since: ContinuousClock.Instant
    }

    private let store: any ConversationStore
    private let budgets: (any BudgetStore)?
    private let attemptLimit: Duration
    private let firstWait: Duration
    private let longestWait: Duration
    private let givingUpAfter: Duration
    private let spool: AnswerEndSpool?
    private let logger: Logger
    private let kept = Mutex<[Kept]>([])
    private let wake: AsyncStream<Void>.Continuation
    private let wakes: AsyncStream<Void>

    public init(
        store: any ConversationStore, budgets: (any BudgetStore)?, attemptLimit: Duration = .seconds(5),
        firstWait: Duration = .milliseconds(500), longestWait: Duration = .seconds(10), givingUpAfter: Duration = .seconds(3600),
        spool: URL? = nil, logger: Logger
    ) {
        self.spool = spool.map { AnswerEndSpool(file: $0, logger: logger) }.flatMap { spool in
            if spool.claim() { return spool }
            logger.warning(
                "another running Sluice keeps its unsaved answer ends in this file: this one keeps them in memory only",
                metadata: ["file": "\(spool.file.path)"])
            return nil
        }
        self.store = store
        self.budgets = budgets
        self.attemptLimit = attemptLimit
        self.firstWait = firstWait
        self.longestWait = longestWait
        self.givingUpAfter = givingUpAfter
        self.logger = logger
        (wakes, wake) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// How many ends wait to be written (those being written again included).
    public var count: Int { kept.withLock { $0.count } }

    /// Stores `end`; when the database does not take it, keeps it to write again and returns false. A turn or call
    /// calls this once, when it ends.
    @discardableResult
    func store(_ end: AnswerEnd) async -> Bool {
        // Not cancelled with its caller — a gateway call whose client hung up — whose cancellation would end the write
        // at once (its time limit's sleep throws) and keep an end the database would have taken.
        await Task { await self.storeNow(end) }.value
    }

    private func storeNow(_ end: AnswerEnd) async -> Bool {
        do {
            try await attempt(end)
            return true
        } catch {
            if !(error is StoreError), end.settlement != nil, await takesWrites(besides: end) {
                // The database refused the settle itself, which writing again would not mend: the hold expires by
                // itself (its answer, if any, was stored alone).
                logger.error(
                    "could not settle the token budget of a turn or call",
                    metadata: ["error": "\(error)", "end": "\(end.name)"])
                return true
            }
            logger.warning(
                "the database did not take the end of an answer or call: kept to write again",
                metadata: ["end": "\(end.name)", "error": "\(error)"])
            kept.withLock { $0.append(Kept(end: end, since: .now)) }
            spool?.append(end)
            wake.yield()
            return false
        }
    }

    public func run() async {
        for await _ in wakes.cancelOnGracefulShutdown() {
            var wait = firstWait
            // Cancelled, every write would end at once (its time limit's sleep throws): stop rather than spin.
            while await !writeAgain(), !Task.isShuttingDownGracefully, !Task.isCancelled {
                try? await cancelWhenGracefulShutdown { [wait] in try await Task.sleep(for: wait) }
                wait = min(wait * 2, longestWait)
            }
        }
        defer { spool?.release() }
        if !Task.isCancelled, await writeAgain() { return }
        let left = kept.withLock { $0.map(\.end.name) }
        if let spool {
            logger.warning(
                "stopping with answers or calls whose end the database did not take: kept in their file, written at the next start",
                metadata: ["count": "\(left.count)", "file": "\(spool.file.path)", "ends": "\(left.joined(separator: ","))"])
            return
        }
        logger.error(
            "stopping with answers or calls whose end the database did not take: answers are kept as partial, with the text of their last progress write; holds expire uncharged",
            metadata: ["count": "\(left.count)", "ends": "\(left.joined(separator: ","))"])
    }

    /// Whether the database takes writes while it refused `end`'s settle: it stores the answer alone, or — for a call
    /// without one — answers a trivial query.
    private func takesWrites(besides end: AnswerEnd) async -> Bool {
        if let alone = end.answerAlone { return (try? await attempt(alone)) != nil }
        return (try? await within { [store] in try await store.ping() }) != nil
    }

    /// Writes `end`, or throws when the database has not answered within `attemptLimit` (the write is cancelled; should
    /// it land all the same, writing it again changes nothing: a settled hold is not settled twice, and the answer's
    /// end is the same).
    private func attempt(_ end: AnswerEnd) async throws {
        try await within { [store, budgets] in try await end.store(in: store, budgets: budgets) }
    }

    /// Runs `write`, or throws when the database has not answered within `attemptLimit` (`write` is cancelled).
    private func within(_ write: @escaping @Sendable () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await write() }
            group.addTask { [attemptLimit] in
                try await Task.sleep(for: attemptLimit)
                throw StoreError.unavailable("the database did not answer within \(attemptLimit)")
            }
            try await group.next()
            group.cancelAll()
        }
    }

    /// Writes the kept ends in order until one is not taken (the database that did not take it would most likely not
    /// take the next either, and each try may wait `attemptLimit`); true when none is left. Those written or given up
    /// leave the list when the round ends (only `store` adds to it meanwhile, at its end).
    private func writeAgain() async -> Bool {
        let due = kept.withLock { $0 }
        guard !due.isEmpty else { return true }
        var done = 0
        var written: [Duration] = []
        for item in due {
            do {
                try await attempt(item.end)
                written.append(.now - item.since)
                done += 1
            } catch where ContinuousClock.now - item.since < givingUpAfter {
                break
            } catch {
                done += 1
                logger.error(
                    "gave up writing the end of an answer or call",
                    metadata: ["end": "\(item.end.name)", "error": "\(error)"])
            }
        }
        if let longest = written.max() {
            logger.notice(
                "wrote the ends of answers or calls that had waited for the database",
                metadata: ["count": "\(written.count)", "longest_wait_ms": "\(longest.components.seconds * 1000 + longest.components.attoseconds / 1_000_000_000_000_000)"])
        }
        let empty = kept.withLock { kept in
            kept.removeFirst(done)
            return kept.isEmpty
        }
        if done > 0 { spool?.rewrite { self.kept.withLock { $0.map(\.end) } } }
        return empty
    }
}
