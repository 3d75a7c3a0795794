import Foundation
import GRDB
import SluiceCore
import SluiceTestSupport
import Testing
@testable import SluiceStore

/// SQLite statements that queue up together share one commit, yet each succeeds or fails on its own.
struct SQLiteGroupCommitTests {
    static func store() async throws -> SQLiteStore {
        let path = try await TestDatabases.makeLocation(.sqlite)
        let store = try await SQLiteStore.open(path: path, logger: TestDatabases.quietLogger)
        try await store.migrate()
        return store
    }

    @Test("500 concurrent writes share commits; the one that breaks a constraint fails alone")
    func groupedButIsolated() async throws {
        let store = try await Self.store()
        _ = try await store.createUser(name: "taken", plan: .free, tokenHash: "h-taken")
        let before = store.connection.committed
        let outcomes = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
            for index in 0..<500 {
                group.addTask {
                    do {
                        _ = try await store.createUser(name: index == 250 ? "taken" : "u\(index)", plan: .free, tokenHash: "h\(index)")
                        return (index, true)
                    } catch StoreError.conflict {
                        return (index, false)
                    }
                }
            }
            return try await group.reduce(into: [Int: Bool]()) { $0[$1.0] = $1.1 }
        }
        let after = store.connection.committed
        #expect(outcomes.filter { !$0.value }.map(\.key) == [250])
        #expect(try await store.users().count == 500)  // "taken" + 499 new
        #expect(after.jobs - before.jobs == 500)
        #expect(after.groups - before.groups <= 250, "statements queued together should share commits")
        try await store.close()
    }

    @Test("a transaction that fails inside a group is undone alone; the group's other statements stay")
    func failedTransactionInAGroup() async throws {
        struct Refused: Error {}
        let store = try await Self.store()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<100 {
                group.addTask {
                    if index == 50 {
                        await #expect(throws: Refused.self) {
                            try await store.connection.transaction { db in
                                try db.execute(
                                    sql: "INSERT INTO users (id, name, plan, token_hash, created_at) VALUES ('x', 'doomed', 'free', 'hx', 0)")
                                throw Refused()
                            }
                        }
                    } else {
                        _ = try await store.createUser(name: "u\(index)", plan: .free, tokenHash: "h\(index)")
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await store.user(named: "doomed") == nil)
        #expect(try await store.users().count == 99)
        try await store.close()
    }

    @Test("a transaction alone that fails is undone whole, and the connection goes on with the next one")
    func failedTransactionAlone() async throws {
        struct Refused: Error {}
        let store = try await Self.store()
        await #expect(throws: Refused.self) {
            try await store.connection.transaction { db in
                try db.execute(sql: "INSERT INTO users (id, name, plan, token_hash, created_at) VALUES ('x', 'doomed', 'free', 'hx', 0)")
                throw Refused()
            }
        }
        #expect(try await store.user(named: "doomed") == nil)
        // A failing statement inside a transaction undoes the statements before it too.
        await #expect(throws: (any Error).self) {
            try await store.connection.transaction { db in
                try db.execute(sql: "INSERT INTO users (id, name, plan, token_hash, created_at) VALUES ('y', 'first', 'free', 'hy', 0)")
                try db.execute(sql: "INSERT INTO users (id, name, plan, token_hash, created_at) VALUES ('y', 'again', 'free', 'hz', 0)")
            }
        }
        #expect(try await store.user(named: "first") == nil)
        try await store.connection.transaction { db in
            try db.execute(sql: "INSERT INTO users (id, name, plan, token_hash, created_at) VALUES ('z', 'kept', 'free', 'hk', 0)")
        }
        #expect(try await store.user(named: "kept") != nil)
        #expect(try await store.users().count == 1)
        try await store.close()
    }
}
