import Foundation
import SluiceCore
import SluiceTestSupport
import Testing
@testable import SluiceStore

/// Schema step 53: administrators, who manage the other users from the web app.
@Suite("Administrators")
struct AdministratorTests {
    @Test("the first user is the administrator, read back however the user is found; the last one stays one",
          arguments: TestDatabases.backends)
    func firstAndLast(_ backend: StoreBackend) async throws {
        let (store, _) = try await TestDatabases.makeStore(backend)
        try await store.migrate()
        let ann = try await store.createUser(name: "ann", plan: .free, tokenHash: "ann-hash")
        let ben = try await store.createUser(name: "ben", plan: .free, tokenHash: "ben-hash")
        #expect(ann.isAdmin && !ben.isAdmin)
        #expect(try await store.credential(tokenHash: "ann-hash")?.user.isAdmin == true)
        #expect(try await store.users().map(\.isAdmin) == [true, false])
        // Ann is the only one: she stays one, and nothing changes.
        #expect(try await store.setAdmin(userID: ann.id, isAdmin: false) == false)
        #expect(try await store.user(named: "ann")?.isAdmin == true)
        #expect(try await store.setAdmin(userID: ben.id, isAdmin: true))
        #expect(try await store.setAdmin(userID: ann.id, isAdmin: false))
        #expect(try await store.user(named: "ann")?.isAdmin == false)
        #expect(try await store.user(named: "ben")?.isAdmin == true)
        #expect(try await store.setAdmin(userID: ben.id, isAdmin: false) == false)
        try await store.close()
    }

    @Test("migrating to step 53 makes the earliest user the administrator", arguments: TestDatabases.backends)
    func migration(_ backend: StoreBackend) async throws {
        let (store, location) = try await TestDatabases.makeStore(backend)
        try await store.migrate()
        _ = try await store.createUser(name: "first", plan: .free, tokenHash: "h1")
        _ = try await store.createUser(name: "second", plan: .free, tokenHash: "h2")
        for statement in [
            // Made in the same millisecond, the two would be told apart by their ids alone.
            "UPDATE users SET created_at = created_at + 1000 WHERE name = 'second'",
            "ALTER TABLE users DROP COLUMN suspended_at", "ALTER TABLE users DROP COLUMN is_admin",
            "DELETE FROM schema_migrations WHERE version >= 53",
        ] {
            _ = try await StoreTests.column("x", of: statement, in: store)
        }
        try await store.close()
        let reopened = try await SluiceDatabases.open(location)
        try await reopened.migrate()
        #expect(try await reopened.users().map { "\($0.name) \($0.isAdmin)" }.sorted() == ["first true", "second false"])
        try await reopened.close()
    }
}
