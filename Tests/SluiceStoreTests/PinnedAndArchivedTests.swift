import Foundation
import SluiceCore
import SluiceTestSupport
import Testing
@testable import SluiceStore

/// Schema step 30: a user's pinned conversations come first, archived ones leave the list for a list of their own.
@Suite("Pinned and archived conversations")
struct PinnedAndArchivedTests {
    @Test("pinned first, archived apart (most recently archived first, unpinned, no longer a gateway thread), and back",
          arguments: TestDatabases.backends)
    func listOrder(_ backend: StoreBackend) async throws {
        let (store, _) = try await TestDatabases.makeStore(backend)
        let alice = try await store.createUser(name: "alice", plan: .free, tokenHash: "a")
        let bob = try await store.createUser(name: "bob", plan: .free, tokenHash: "b")
        var made: [Conversation] = []
        for (index, title) in ["oldest", "middle", "newest"].enumerated() {
            // Distinct moments, so that the order does not rest on the insertion's tie-break.
            var conversation = Conversation.starting(userID: alice.id, title: title, model: "m", systemPrompt: nil)
            conversation.updatedAt = Date(timeIntervalSince1970: 1_800_000_000 + Double(index))
            try await store.createConversation(conversation, messages: [])
            made.append(conversation)
        }
        let (oldest, middle, newest) = (made[0], made[1], made[2])
        _ = try await store.createConversation(userID: bob.id, title: "bob's", model: "m", systemPrompt: nil)
        let titles = { (archived: Bool) in try await store.conversations(userID: alice.id, archived: archived).map(\.title) }
        #expect(try await titles(false) == ["newest", "middle", "oldest"])
        #expect(try await titles(true) == [])

        let pinnedAt = Date(timeIntervalSince1970: 1_800_000_100)
        try await store.pinConversation(id: oldest.id, at: pinnedAt)
        #expect(try await titles(false) == ["oldest", "newest", "middle"])
        #expect(try await store.conversation(id: oldest.id)?.pinnedAt == pinnedAt)

        // Archiving takes a conversation out of the list, unpins it and ends its gateway thread.
        try await store.setThreadKey(conversationID: oldest.id, threadKey: "k")
        try await store.archiveConversation(id: oldest.id, at: pinnedAt.addingTimeInterval(1))
        try await store.archiveConversation(id: newest.id, at: pinnedAt.addingTimeInterval(2))
        #expect(try await titles(false) == ["middle"])
        #expect(try await titles(true) == ["newest", "oldest"])
        let archived = try #require(try await store.conversation(id: oldest.id))
        #expect(archived.archivedAt == pinnedAt.addingTimeInterval(1) && archived.pinnedAt == nil)
        #expect(try await store.claimThread(userID: alice.id, threadKey: "k") == nil)

        // Back in the list where its last update puts it, unpinned; another user's list never changes.
        try await store.archiveConversation(id: oldest.id, at: nil)
        #expect(try await titles(false) == ["middle", "oldest"])
        #expect(try await store.conversation(id: oldest.id)?.archivedAt == nil)
        try await store.pinConversation(id: middle.id, at: nil)
        #expect(try await titles(false) == ["middle", "oldest"])
        #expect(try await store.conversations(userID: bob.id).map(\.title) == ["bob's"])
        try await store.close()
    }
}
