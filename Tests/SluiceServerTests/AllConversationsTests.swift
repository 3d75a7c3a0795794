import Foundation
import SluiceCore
import SluiceTestSupport
import Testing

/// ChatGPT's "Archive all chats" and "Delete all chats" (`/api/conversations/archive-all`, `…/delete-all`).
@Suite("All of a user's conversations at once")
struct AllConversationsTests {
    static func listed(_ h: Harness, _ token: String, archived: Bool = false) async throws -> Set<String> {
        let reply = try await h.request(.GET, "/api/conversations\(archived ? "?archived=true" : "")", token: token)
        return Set((reply.json?["conversations"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
    }

    @Test("archive all archives (and unpins) every kept conversation of the caller's; delete all deletes every one with its messages, and nobody else's",
          arguments: TestDatabases.backends)
    func archiveThenDelete(database: StoreBackend) async throws {
        // With budgets on, every turn is in the ledger.
        try await Harness.run(budgets: true, database: database) { h in
            let pinned = try await h.newConversation(h.alice)
            _ = try await h.request(.PATCH, "/api/conversations/\(pinned)", token: h.alice, body: #"{"pinned":true}"#)
            let chatted = try await h.newConversation(h.alice)
            _ = try await h.send(chatted, token: h.alice)
            let alreadyArchived = try await h.newConversation(h.alice)
            _ = try await h.request(.PATCH, "/api/conversations/\(alreadyArchived)", token: h.alice, body: #"{"archived":true}"#)
            let before = try #require(try await h.store.conversation(id: alreadyArchived)?.archivedAt)
            let temporary = try #require(try await h.request(.POST, "/api/conversations", token: h.alice, body: #"{"temporary":true}"#).json?["id"] as? String)
            let bobs = try await h.newConversation(h.bob)

            let archived = try await h.request(.POST, "/api/conversations/archive-all", token: h.alice)
            #expect(archived.status == 200 && archived.json?["archived"] as? Int == 2)
            #expect(try await Self.listed(h, h.alice) == [])
            #expect(try await Self.listed(h, h.alice, archived: true) == [pinned, chatted, alreadyArchived])
            #expect(try await h.store.conversation(id: pinned)?.pinnedAt == nil, "archiving unpins")
            #expect(try await h.store.conversation(id: alreadyArchived)?.archivedAt == before, "one archived before keeps its moment")
            #expect(try await h.store.conversation(id: temporary)?.archivedAt == nil, "a temporary chat is not archived")
            #expect(try await Self.listed(h, h.bob) == [bobs])

            let spent = try await h.store.conversationTokens(conversationID: chatted)
            let deleted = try await h.request(.POST, "/api/conversations/delete-all", token: h.alice)
            #expect(deleted.status == 200 && deleted.json?["deleted"] as? Int == 4)
            for id in [pinned, chatted, alreadyArchived, temporary] {
                #expect(try await h.store.conversation(id: id) == nil)
                #expect(try await h.request(.GET, "/api/conversations/\(id)", token: h.alice).status == 404)
            }
            #expect(try await h.store.messages(conversationID: chatted).isEmpty)
            #expect(spent > 0)
            #expect(try await h.store.conversationTokens(conversationID: chatted) == spent, "the usage stays in the ledger")
            #expect(try await Self.listed(h, h.bob) == [bobs], "another user's are untouched")
            #expect(try await h.request(.POST, "/api/conversations/delete-all", token: h.alice).json?["deleted"] as? Int == 0)
            #expect(try await h.request(.POST, "/api/conversations/archive-all", token: nil).status == 401)
        }
    }
}
