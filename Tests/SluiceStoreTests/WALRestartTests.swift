import Foundation
import struct GRDB.Configuration
import class GRDB.DatabaseQueue
@testable import SluiceStore
import SluiceTestSupport
import Testing

/// Under steady writes a checkpoint beside the writer never catches up, and SQLite starts its log again only when
/// a commit finds every frame copied: once the log is long, the checkpointer finishes each round on the writer's
/// connection, so the log starts again instead of growing without end.
struct WALRestartTests {
    /// A database with a table, its writer connection, and a checkpointer run by hand.
    struct Fixture {
        let path: String
        let writer: SQLiteConnection
        let checkpointer: WALCheckpointer

        init(restartFrames: Int) async throws {
            path = try await TestDatabases.makeLocation(.sqlite)
            try FileManager.default.createDirectory(
                atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
            writer = try SQLiteConnection(path: path, label: "test.writer", manualCheckpoints: true)
            try await writer.query("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
            checkpointer = try WALCheckpointer.start(
                path: path, writer: writer, interval: nil, restartFrames: restartFrames, logger: TestDatabases.quietLogger)
        }

        /// Writes `count` rows of 2 KiB, one commit each.
        func write(_ count: Int) async throws {
            for _ in 0..<count {
                try await writer.query("INSERT INTO notes (body) VALUES (?)", [.text(String(repeating: "x", count: 2048))])
            }
        }

        /// Frames in the log now (the report of a checkpoint on a connection of its own, which copies them all
        /// but cannot start the log again: only a commit can).
        func logFrames() async throws -> Int {
            let connection = try SQLiteConnection(path: path, label: "test.observer")
            defer { try? connection.close() }
            return try await connection.checkpoint().logFrames
        }

        /// A round's checkpoint beside the writer that could not copy the last commits: a reader's older snapshot
        /// holds it back, as the writer's appending does while a checkpoint copies (which a test cannot time).
        func checkpointBesideLeftBehind() async throws -> (logFrames: Int, copiedFrames: Int) {
            var configuration = Configuration()
            configuration.allowsUnsafeTransactions = true  // the read stays open across two accesses
            let reader = try DatabaseQueue(path: path, configuration: configuration)
            try reader.inDatabase { db in
                try db.execute(sql: "BEGIN DEFERRED")
                _ = try Int.fetchOne(db, sql: "SELECT count(*) FROM notes")
            }
            try await write(10)
            let connection = try SQLiteConnection(path: path, label: "test.beside")
            defer { try? connection.close() }
            let beside = try await connection.checkpoint()
            try reader.inDatabase { db in try db.execute(sql: "COMMIT") }
            try reader.close()
            return beside
        }

        func close() async throws {
            await checkpointer.stop()
            try writer.close()
        }
    }

    @Test func aLongLogIsFinishedOnTheWriterAndStartsAgainAtItsNextCommit() async throws {
        let fixture = try await Fixture(restartFrames: 8)
        try await fixture.write(20)
        let beside = try await fixture.checkpointBesideLeftBehind()
        #expect(beside.copiedFrames < beside.logFrames)
        try await fixture.checkpointer.restartIfLong(after: beside)
        #expect(fixture.checkpointer.finishedByWriter == 1)

        try await fixture.write(1)
        // The log started again: it holds the last commit's frames, not the 31 commits' before it.
        let frames = try await fixture.logFrames()
        #expect(frames < 5, "the log holds \(frames) frames")
        try await fixture.close()
    }

    @Test func withoutFinishingOnTheWriterTheLogKeepsGrowing() async throws {
        let fixture = try await Fixture(restartFrames: 8)
        try await fixture.write(20)
        let beside = try await fixture.checkpointBesideLeftBehind()
        try await fixture.write(1)
        let frames = try await fixture.logFrames()
        #expect(frames > beside.logFrames)
        try await fixture.close()
    }

    /// SQLite syncs the header of a log that starts again, in the commit that starts it. A round that copied every
    /// frame starts the log again itself, so that this fsync is not paid by the next request's commit.
    @Test func aFullyCopiedLogIsStartedAgainByTheCheckpointerBeforeTheNextCommit() async throws {
        let fixture = try await Fixture(restartFrames: 10_000)
        try await fixture.write(20)
        try await fixture.writer.query("PRAGMA user_version = 7")
        await fixture.checkpointer.checkpoint()
        #expect(fixture.checkpointer.logsStartedAgain == 1)
        // Only the checkpointer's own write is in the log, not the 21 commits before it.
        let frames = try await fixture.logFrames()
        #expect(frames == 1, "the log holds \(frames) frames")
        #expect(try await fixture.writer.query("PRAGMA user_version").first?.int("user_version") == 7)
        #expect(try await fixture.writer.query("SELECT count(*) AS n FROM notes").first?.int("n") == 20)

        // Nothing written since: the next round leaves the empty log alone.
        await fixture.checkpointer.checkpoint()
        #expect(fixture.checkpointer.logsStartedAgain == 1)
        try await fixture.close()
    }

    /// What the test above guards against: a checkpoint copies every frame, yet the log keeps them all until a
    /// commit starts it again.
    @Test func aCopiedLogKeepsItsFramesUntilAWrite() async throws {
        let fixture = try await Fixture(restartFrames: 10_000)
        try await fixture.write(20)
        let first = try await fixture.logFrames()
        #expect(first >= 20)
        #expect(try await fixture.logFrames() == first)
        try await fixture.close()
    }

    @Test func aLogThatARoundCouldNotCopyIsNotStartedAgain() async throws {
        let fixture = try await Fixture(restartFrames: 10_000)
        try await fixture.write(20)
        let beside = try await fixture.checkpointBesideLeftBehind()
        #expect(beside.copiedFrames < beside.logFrames)
        try await fixture.checkpointer.startLogAgainIfCopied(beside)
        #expect(fixture.checkpointer.logsStartedAgain == 0)
        try await fixture.close()
    }

    @Test func aShortLogIsLeftToTheCheckpointsBesideTheWriter() async throws {
        let fixture = try await Fixture(restartFrames: 10_000)
        try await fixture.write(20)
        let beside = try await fixture.checkpointBesideLeftBehind()
        try await fixture.checkpointer.restartIfLong(after: beside)
        #expect(fixture.checkpointer.finishedByWriter == 0)
        try await fixture.close()
    }
}
