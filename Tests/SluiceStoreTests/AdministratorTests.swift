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
        // A suspended administrator cannot sign in to manage anyone: Ben may not leave the role to her alone.
        #expect(try await store.setAdmin(userID: ann.id, isAdmin: true))
        try await store.setSuspended(userID: ann.id, suspended: true)
        #expect(try await store.setAdmin(userID: ben.id, isAdmin: false) == false)
        // Someone who is no administrator stays none, even with no administrator able to sign in.
        let cy = try await store.createUser(name: "cy", plan: .free, tokenHash: "cy-hash")
        try await store.setSuspended(userID: ben.id, suspended: true)
        #expect(try await store.setAdmin(userID: cy.id, isAdmin: false))
        #expect(try await store.user(named: "cy")?.isAdmin == false)
        try await store.setSuspended(userID: ben.id, suspended: false)
        try await store.setSuspended(userID: ann.id, suspended: false)
        #expect(try await store.setAdmin(userID: ben.id, isAdmin: false))
        try await store.close()
    }

    @Test("deleting a user removes what they made, revokes their keys and frees the name; what they spent stays",
          arguments: TestDatabases.backends)
    func deletion(_ backend: StoreBackend) async throws {
        let (store, _) = try await TestDatabases.makeStore(backend)
        try await store.migrate()
        let ann = try await store.createUser(name: "ann", plan: .free, tokenHash: "ann-hash")
        let ben = try await store.createUser(name: "ben", plan: .unlimited, tokenHash: "ben-hash")
        for user in [ann, ben] {
            let conversation = Conversation.starting(userID: user.id, title: "mine", model: "m", systemPrompt: nil)
            try await store.createConversation(conversation, messages: [])
            let hold = try #require(try await store.hold(BudgetStoreTests.request(user, conversation.id, input: 20, output: 50), now: Date()))
            try await store.settle(holdID: hold.id, inputTokens: 20, outputTokens: 10, cost: .zero, now: Date(), finishing: nil)
            try await store.createProject(.starting(userID: user.id, name: "plans", instructions: nil))
            try await store.addSavedPrompt(SavedPrompt(
                id: Identifier.make(), userID: user.id, command: "hi", title: "Hi", content: "Hello", createdAt: Date(), updatedAt: Date()))
            _ = try await store.addAPIKey(userID: user.id, label: "ci", tokenHash: "\(user.name)-key")
            #expect(try await store.addMemory(.saving("I am \(user.name).", userID: user.id), limit: 10))
        }
        #expect(try await store.setAdmin(userID: ben.id, isAdmin: true))
        #expect(try await store.deleteUser(userID: ben.id))

        #expect(try await store.conversations(userID: ben.id).isEmpty)
        #expect(try await store.projects(userID: ben.id).isEmpty)
        #expect(try await store.savedPrompts(userID: ben.id).isEmpty)
        #expect(try await store.memories(userID: ben.id).isEmpty)
        #expect(try await store.credential(tokenHash: "ben-hash") == nil)
        #expect(try await store.credential(tokenHash: "ben-key") == nil)
        #expect(try await store.apiKeys(userID: ben.id).allSatisfy { $0.revokedAt != nil })
        #expect(try await store.users().map(\.name) == ["ann"])
        #expect(try await store.user(named: "ben") == nil)
        // What he spent stays, under the name his row keeps now; the name is free again.
        let spent = try await store.usageHistory(userID: nil, since: .distantPast, groupedBy: .user)
        #expect(Set(spent.map { "\($0.label ?? "?") \($0.totalTokens)" }) == ["ann 30", "deleted-\(ben.id) 30"])
        #expect(try await store.createUser(name: "ben", plan: .free, tokenHash: "new-ben").isAdmin == false)
        // Ann's things are untouched; as the last administrator she cannot be deleted.
        #expect(try await store.conversations(userID: ann.id).count == 1)
        #expect(try await store.projects(userID: ann.id).count == 1)
        #expect(try await store.memories(userID: ann.id).map(\.content) == ["I am ann."])
        #expect(try await store.deleteUser(userID: ann.id) == false)
        #expect(try await store.user(named: "ann")?.isAdmin == true)
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
        ] + EndUserLedgerTests.undoStepsFrom62(backend) + [
            "DROP TABLE security_events", "DROP TABLE recovery_codes", "DROP TABLE two_step",
            "DROP TABLE sign_in_attempts", "ALTER TABLE users DROP COLUMN pending", "DROP TABLE sessions", "ALTER TABLE users DROP COLUMN password_hash",
            "ALTER TABLE users DROP COLUMN deleted_at", "ALTER TABLE users DROP COLUMN suspended_at",
            "ALTER TABLE users DROP COLUMN is_admin",
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
