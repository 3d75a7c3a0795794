import Foundation
import SluiceCore
import SluiceTestSupport
import Testing
@testable import SluiceStore

/// Schema step 20: the models a user may use, read back with the user however it is found.
@Suite("Allowed models")
struct AllowedModelsTests {
    @Test("a user's models are kept, found with the user by token, name and in the list, and removed again",
          arguments: TestDatabases.backends)
    func roundTrip(_ backend: StoreBackend) async throws {
        let (store, _) = try await TestDatabases.makeStore(backend)
        try await store.migrate()
        let user = try await store.createUser(name: "ann", plan: .free, tokenHash: "ann-hash")
        #expect(user.allowedModels == nil && user.mayUse("anything"))
        try await store.setAllowedModels(userID: user.id, models: ["openai/gpt-4o-mini", "SmolLM2-135M-Instruct"])
        let byToken = try #require(try await store.user(tokenHash: "ann-hash"))
        #expect(byToken.allowedModels == ["openai/gpt-4o-mini", "SmolLM2-135M-Instruct"])
        #expect(byToken.mayUse("SmolLM2-135M-Instruct") && !byToken.mayUse("gpt-4o"))
        #expect(try await store.user(named: "ann")?.allowedModels == byToken.allowedModels)
        #expect(try await store.users().first?.allowedModels == byToken.allowedModels)
        try await store.setAllowedModels(userID: user.id, models: nil)
        #expect(try await store.user(named: "ann")?.allowedModels == nil)
        try await store.close()
    }
}
