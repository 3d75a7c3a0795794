import Foundation
import SluiceCore
import SluiceTestSupport
import Testing
@testable import SluiceStore

/// Schema step 69: the people an OpenID Connect provider signs in, each tied to one user.
@Suite("Identities from a sign-in provider")
struct IdentityStoreTests {
    @Test("a provider's person is tied to one user for good, found by issuer and subject; deleting the user unties them",
          arguments: TestDatabases.backends)
    func identities(_ backend: StoreBackend) async throws {
        let (store, _) = try await TestDatabases.makeStore(backend)
        try await store.migrate()
        let admin = try await store.createUser(name: "admin", plan: .free, tokenHash: "admin-hash")
        let ann = try await store.createUser(name: "ann", plan: .free, tokenHash: "ann-hash")
        let ben = try await store.createUser(name: "ben", plan: .free, tokenHash: "ben-hash")
        let issuer = "https://login.example.com/realms/acme"
        #expect(try await store.user(issuer: issuer, subject: "s-ann") == nil)

        #expect(try await store.linkIdentity(issuer: issuer, subject: "s-ann", userID: ann.id))
        #expect(try await store.user(issuer: issuer, subject: "s-ann")?.id == ann.id)
        // The same subject at another provider is another person; the same person is not tied twice.
        #expect(try await store.user(issuer: "https://accounts.google.com", subject: "s-ann") == nil)
        #expect(try await store.linkIdentity(issuer: issuer, subject: "s-ann", userID: ben.id) == false)
        #expect(try await store.user(issuer: issuer, subject: "s-ann")?.id == ann.id)
        #expect(try await store.linkIdentity(issuer: "https://accounts.google.com", subject: "g-ann", userID: ann.id))
        #expect(try await store.identityIssuers(userID: ann.id) == [issuer, "https://accounts.google.com"])
        #expect(try await store.identityIssuers(userID: ben.id) == [])
        #expect(try await store.identityUserIDs() == [ann.id])
        #expect(try await store.unlinkIdentities(userID: ann.id, issuer: "https://accounts.google.com") == 1)
        #expect(try await store.unlinkIdentities(userID: ann.id, issuer: "https://accounts.google.com") == 0)
        #expect(try await store.user(issuer: "https://accounts.google.com", subject: "g-ann") == nil)
        #expect(try await store.identityIssuers(userID: ann.id) == [issuer])

        #expect(try await store.deleteUser(userID: ann.id))
        #expect(try await store.user(issuer: issuer, subject: "s-ann") == nil)
        #expect(try await store.identityIssuers(userID: ann.id) == [])
        // Free again: the person's next sign-in may make a new account.
        #expect(try await store.linkIdentity(issuer: issuer, subject: "s-ann", userID: ben.id))
        _ = admin
        try await store.close()
    }
}
