import Foundation
import SluiceCore
import SluiceTestSupport
import Testing
@testable import SluiceStore

/// Schema step 56: passwords and the sessions signing in with one starts.
@Suite("Passwords and sessions")
struct SignInStoreTests {
    @Test("a session's token signs its user in as their own token does, until it ends or expires",
          arguments: TestDatabases.backends)
    func sessions(_ backend: StoreBackend) async throws {
        let (store, _) = try await TestDatabases.makeStore(backend)
        try await store.migrate()
        let ann = try await store.createUser(name: "ann", plan: .free, tokenHash: "ann-hash")
        let ben = try await store.createUser(name: "ben", plan: .free, tokenHash: "ben-hash")
        let later = Date().addingTimeInterval(3600)
        try await store.startSession(userID: ann.id, tokenHash: "ann-laptop", expiresAt: later)
        try await store.startSession(userID: ann.id, tokenHash: "ann-phone", expiresAt: later)
        try await store.startSession(userID: ben.id, tokenHash: "ben-laptop", expiresAt: later)
        let laptop = try #require(try await store.credential(tokenHash: "ann-laptop"))
        // As the user themselves: no key, so no key's limits, and an administrator may manage users with it.
        #expect(laptop.user.id == ann.id && laptop.user.isAdmin && laptop.apiKeyID == nil && laptop.keyUse == nil)
        #expect(laptop.expiresAt == nil)

        #expect(try await store.endSession(tokenHash: "ann-laptop"))
        #expect(try await store.endSession(tokenHash: "ann-laptop") == false)
        #expect(try await store.endSession(tokenHash: "ann-hash") == false)
        #expect(try await store.credential(tokenHash: "ann-laptop") == nil)
        #expect(try await store.credential(tokenHash: "ann-hash")?.user.id == ann.id)

        // Every other session of Ann's ends; Ben's is not hers.
        try await store.startSession(userID: ann.id, tokenHash: "ann-desk", expiresAt: later)
        #expect(try await store.endSessions(userID: ann.id, keeping: "ann-desk") == 1)
        #expect(try await store.credential(tokenHash: "ann-phone") == nil)
        #expect(try await store.credential(tokenHash: "ann-desk")?.user.id == ann.id)
        #expect(try await store.credential(tokenHash: "ben-laptop")?.user.id == ben.id)
        #expect(try await store.endSessions(userID: ann.id, keeping: nil) == 1)
        #expect(try await store.credential(tokenHash: "ann-desk") == nil)

        // An expired session signs no one in, and the user's next sign-in clears it away.
        try await store.startSession(userID: ben.id, tokenHash: "ben-old", expiresAt: Date().addingTimeInterval(-1))
        #expect(try await store.credential(tokenHash: "ben-old") == nil)
        try await store.startSession(userID: ben.id, tokenHash: "ben-new", expiresAt: later)
        #expect(try await StoreTests.column(
            "token_hash", of: "SELECT token_hash FROM sessions WHERE user_id = '\(ben.id)' ORDER BY token_hash", in: store)
            == ["ben-laptop", "ben-new"])
        try await store.close()
    }

    @Test("a password's hash is kept apart from the user, who only shows that there is one; deleting the user ends it all",
          arguments: TestDatabases.backends)
    func passwords(_ backend: StoreBackend) async throws {
        let (store, _) = try await TestDatabases.makeStore(backend)
        try await store.migrate()
        let ann = try await store.createUser(name: "ann", plan: .free, tokenHash: "ann-hash")
        let ben = try await store.createUser(name: "ben", plan: .free, tokenHash: "ben-hash")
        #expect(try await store.passwordHash(userID: ben.id) == nil)
        #expect(try await store.user(named: "ben")?.hasPassword == false)
        try await store.setPasswordHash(userID: ben.id, hash: "$2b$04$bens")
        #expect(try await store.passwordHash(userID: ben.id) == "$2b$04$bens")
        #expect(try await store.passwordHash(userID: ann.id) == nil)
        #expect(try await store.user(named: "ben")?.hasPassword == true)
        #expect(try await store.users().map(\.hasPassword) == [false, true])
        #expect(try await store.credential(tokenHash: "ben-hash")?.user.hasPassword == true)
        try await store.setPasswordHash(userID: ben.id, hash: nil)
        #expect(try await store.user(named: "ben")?.hasPassword == false)

        try await store.setPasswordHash(userID: ben.id, hash: "$2b$04$bens")
        try await store.startSession(userID: ben.id, tokenHash: "ben-laptop", expiresAt: Date().addingTimeInterval(3600))
        #expect(try await store.deleteUser(userID: ben.id))
        #expect(try await store.credential(tokenHash: "ben-laptop") == nil)
        #expect(try await store.passwordHash(userID: ben.id) == nil)
        try await store.close()
    }
}
