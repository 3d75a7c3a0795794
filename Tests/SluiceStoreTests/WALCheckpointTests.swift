import Foundation
import SluiceCore
@testable import SluiceStore
import SluiceTestSupport
import Testing

/// The SQLite store's write-ahead log is copied into the database file by a checkpointer beside the writes, never
/// inside a commit (where its fsync would stall every turn queued behind it).
struct WALCheckpointTests {
    @Test func commitsNeverCheckpointAndTheBackgroundCheckpointerCopiesTheLogIntoTheFile() async throws {
        let path = try await TestDatabases.makeLocation(.sqlite)
        let store = try await SQLiteStore.open(path: path, logger: TestDatabases.quietLogger)
        try await store.migrate()
        let autocheckpoint = try await store.connection.query("PRAGMA wal_autocheckpoint").first?.int("wal_autocheckpoint")
        #expect(autocheckpoint == 0)
        // Statement journals and CTE tables in memory, not temporary files (2: MEMORY).
        #expect(try await store.connection.query("PRAGMA temp_store").first?.int("temp_store") == 2)

        let before = store.checkpointsDone
        let user = try await store.createUser(name: "wal", plan: .free, tokenHash: "wal-hash")
        // Two checkpoints after the write: the second one surely started after the commit. (One a second, unless the
        // machine is loaded: a CI run beside a release build once saw one in 33 s.)
        let deadline = ContinuousClock.now + .seconds(90)
        while store.checkpointsDone < before + 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(store.checkpointsDone >= before + 2)

        // The database file alone, without its log, already has the user.
        let copy = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("copy.sqlite").path
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        let reader = try await SQLiteStore.open(path: copy, logger: TestDatabases.quietLogger)
        #expect(try await reader.user(tokenHash: "wal-hash") == user)
        try await reader.close()
        try await store.close()
    }
}
