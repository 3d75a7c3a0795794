import Foundation
import SluiceCore
import SluiceTestSupport
import Testing
@testable import SluiceStore

/// Schema step 21: labelled keys besides a user's token.
@Suite("API keys")
struct APIKeyTests {
    @Test("a key finds its user until it is revoked; labels are unique per user; the user's token is untouched",
          arguments: TestDatabases.backends)
    func keys(_ backend: StoreBackend) async throws {
        let (store, _) = try await TestDatabases.makeStore(backend)
        try await store.migrate()
        let ann = try await store.createUser(name: "ann", plan: .pro, tokenHash: "ann-token")
        let bob = try await store.createUser(name: "bob", plan: .free, tokenHash: "bob-token")
        try await store.setAllowedModels(userID: ann.id, models: ["m1"])

        let ci = try await store.addAPIKey(userID: ann.id, label: "ci", tokenHash: "ann-ci")
        let laptop = try await store.addAPIKey(userID: ann.id, label: "laptop", tokenHash: "ann-laptop")
        // Another user may use the same label.
        _ = try await store.addAPIKey(userID: bob.id, label: "ci", tokenHash: "bob-ci")
        await #expect(throws: StoreError.self) { _ = try await store.addAPIKey(userID: ann.id, label: "ci", tokenHash: "other") }

        // A key acts as its user, allowed models and all.
        let viaKey = try #require(try await store.user(tokenHash: "ann-ci"))
        #expect(viaKey.id == ann.id && viaKey.plan == .pro && viaKey.allowedModels == ["m1"])
        #expect(try await store.user(tokenHash: "bob-ci")?.id == bob.id)
        #expect(try await store.apiKeys(userID: ann.id).map(\.label) == ["ci", "laptop"])
        #expect(try await store.apiKeys(userID: ann.id).map(\.id) == [ci.id, laptop.id])

        #expect(try await store.revokeAPIKey(userID: ann.id, label: "ci"))
        #expect(try await store.user(tokenHash: "ann-ci") == nil)
        #expect(try await !store.revokeAPIKey(userID: ann.id, label: "ci"), "already revoked")
        #expect(try await !store.revokeAPIKey(userID: ann.id, label: "nope"))
        #expect(try await store.apiKeys(userID: ann.id).first?.revokedAt != nil)
        #expect(try await store.apiKeys(userID: ann.id).last?.revokedAt == nil)
        // Revoking Ann's "ci" left Bob's, Ann's other key and Ann's own token working.
        #expect(try await store.user(tokenHash: "bob-ci")?.id == bob.id)
        #expect(try await store.user(tokenHash: "ann-laptop")?.id == ann.id)
        #expect(try await store.user(tokenHash: "ann-token")?.id == ann.id)
        #expect(try await store.user(tokenHash: "nobody") == nil)
        try await store.close()
    }
}
