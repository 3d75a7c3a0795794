import Foundation
import Logging
import SluiceCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A file beside the server where `UnsavedAnswerEnds` keeps the ends the database did not take, so that they outlive
/// the process: a Sluice stopped, killed or crashed during a database outage writes them at its next start
/// (`prepareStore`), before the recovery of interrupted answers would keep them as `partial` and release their holds
/// uncharged. One JSON object per line, appended as an end is kept; rewritten with those still waiting when a round
/// has written some; gone when none waits. A line written twice is harmless: a settled hold is not settled twice, and
/// an answer's end is the same.
///
/// The process that keeps its ends in a file holds `<file>.lock` (`claim()`), and a start writes only the left-over
/// files whose lock it can take: never those of another Sluice still running on the same database and machine.
final class AnswerEndSpool: Sendable {
    let file: URL
    private let logger: Logger
    /// Serialises the file's appends and rewrites.
    private let lock = Mutex(())
    /// The file's owner's lock, while this process owns it.
    private let ownership = Mutex<FileLock?>(nil)

    init(file: URL, logger: Logger) {
        self.file = file
        self.logger = logger
    }

    /// Makes this process the file's owner for as long as it runs (or until `release()`); false when another
    /// running process owns it.
    func claim() -> Bool {
        ownership.withLock { owned in
            if owned == nil { owned = FileLock(file.path + ".lock") }
            return owned != nil
        }
    }

    /// Gives the file up, and removes its lock when no end is left in it.
    func release() {
        ownership.withLock { owned in
            guard owned != nil else { return }
            if !FileManager.default.fileExists(atPath: file.path) { try? FileManager.default.removeItem(atPath: file.path + ".lock") }
            owned = nil
        }
    }

    /// An exclusive `flock` on a file (made when missing), held until the value goes; the kernel lets it go when the
    /// process ends, however it ends.
    private final class FileLock: Sendable {
        private let descriptor: Int32

        init?(_ path: String) {
            try? FileManager.default.createDirectory(
                at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true)
            // A start that adopted a stopped Sluice's file removes its lock file while holding the lock: a lock taken on
            // the removed file (opened just before) locks nothing another process can see. So the path must still
            // name the file locked; if it does not, try again with the one there now (a few times: removals are rare).
            for _ in 0..<8 {
                let descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
                guard descriptor >= 0 else { return nil }
                guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
                    close(descriptor)
                    return nil
                }
                var locked = stat()
                var named = stat()
                if fstat(descriptor, &locked) == 0, stat(path, &named) == 0, locked.st_ino == named.st_ino, locked.st_dev == named.st_dev {
                    self.descriptor = descriptor
                    return
                }
                close(descriptor)
            }
            return nil
        }

        deinit { close(descriptor) }
    }

    /// One end as stored: `AnswerEnd` with its answer's thread spelt out.
    private struct Line: Codable {
        var settlement: AnswerEnd.Settlement?
        var messageID: String?
        var outcome: AssistantOutcome?
        var threadConversationID: String?
        var threadKey: String?
        var sources: [ExcerptSource]

        init(_ end: AnswerEnd) {
            settlement = end.settlement
            messageID = end.answer?.messageID
            outcome = end.answer?.outcome
            threadConversationID = end.answer?.thread?.conversationID
            threadKey = end.answer?.thread?.key
            sources = end.sources
        }

        var end: AnswerEnd {
            let thread = threadConversationID.flatMap { id in threadKey.map { (conversationID: id, key: $0) } }
            let answer = messageID.flatMap { id in outcome.map { AnswerFinish(messageID: id, outcome: $0, thread: thread) } }
            return AnswerEnd(settlement: settlement, answer: answer, sources: sources)
        }
    }

    private static func encoded(_ end: AnswerEnd) -> Data? {
        guard var data = try? JSONEncoder().encode(Line(end)) else { return nil }
        data.append(UInt8(ascii: "\n"))
        return data
    }

    /// Adds `end` at the end of the file (made, with its folder, when missing).
    func append(_ end: AnswerEnd) {
        guard let data = Self.encoded(end) else { return }
        lock.withLock { _ in
            do {
                if !FileManager.default.fileExists(atPath: file.path) {
                    try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
                    try Data().write(to: file, options: .atomic)
                }
                let handle = try FileHandle(forWritingTo: file)
                defer { try? handle.close() }
                try handle.seekToEnd()
                try handle.write(contentsOf: data)
                try handle.synchronize()
            } catch {
                logger.error(
                    "could not keep the end of an answer or call in its file: it is kept in memory only",
                    metadata: ["file": "\(file.path)", "end": "\(end.name)", "error": "\(error)"])
            }
        }
    }

    /// Leaves in the file only `waiting()` (read under the file's lock, so that no append falls between), or removes
    /// the file when none waits.
    func rewrite(_ waiting: () -> [AnswerEnd]) {
        lock.withLock { _ in
            let ends = waiting()
            do {
                if ends.isEmpty {
                    if FileManager.default.fileExists(atPath: file.path) { try FileManager.default.removeItem(at: file) }
                } else {
                    try Data(ends.compactMap(Self.encoded).joined()).write(to: file, options: .atomic)
                }
            } catch {
                logger.error("could not rewrite the file of unsaved answer ends", metadata: ["file": "\(file.path)", "error": "\(error)"])
            }
        }
    }

    /// The ends in the file, in the order they were kept; a line that cannot be read is logged and skipped.
    func read() -> [AnswerEnd] {
        lock.withLock { _ in
            guard let data = FileManager.default.contents(atPath: file.path) else { return [] }
            var ends: [AnswerEnd] = []
            for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
                if let read = try? JSONDecoder().decode(Line.self, from: Data(line)) {
                    ends.append(read.end)
                } else {
                    logger.error("skipped a line of the file of unsaved answer ends that could not be read", metadata: ["file": "\(file.path)"])
                }
            }
            return ends
        }
    }

    /// Writes the ends a stopped Sluice left in the file, then removes it: each settled with its answer, or — when the
    /// database refuses the settle (its hold released meanwhile by another instance's recovery) — its answer alone.
    /// An end the database refuses for itself (its message deleted meanwhile) is logged and dropped. Returns how many
    /// were written; none when the file's owner still runs (it writes them itself). Throws when the database cannot
    /// be reached: the start then fails, the file kept for the next.
    func writeLeftOver(store: any ConversationStore, budgets: (any BudgetStore)?) async throws -> Int {
        guard claim() else {
            logger.info("left the unsaved answer ends of a Sluice still running to it", metadata: ["file": "\(file.path)"])
            return 0
        }
        defer { release() }
        let ends = read()
        guard !ends.isEmpty else { return 0 }
        var written = 0
        for end in ends {
            do {
                try await end.store(in: store, budgets: budgets)
                written += 1
            } catch StoreError.unavailable(let reason) {
                throw StoreError.unavailable(reason)
            } catch {
                do {
                    guard let alone = end.answerAlone else {
                        logger.error("dropped a left-over settle the database refused", metadata: ["end": "\(end.name)", "error": "\(error)"])
                        continue
                    }
                    try await alone.store(in: store, budgets: budgets)
                    logger.error("could not settle a left-over end: its answer was stored alone", metadata: ["end": "\(end.name)", "error": "\(error)"])
                } catch StoreError.unavailable(let reason) {
                    throw StoreError.unavailable(reason)
                } catch {
                    logger.error("dropped a left-over end the database refused", metadata: ["end": "\(end.name)", "error": "\(error)"])
                }
            }
        }
        rewrite { [] }
        return written
    }
}
