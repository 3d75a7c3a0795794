import Foundation
import SluiceCore
import SluiceTestSupport
import Testing
@testable import SluiceStore

/// Conversations not to be kept (`markUnkept`, the Responses API's `store: false`): out of sight while their turn runs,
/// and deleted by recovery when no turn's end deleted them.
@Suite("Unkept conversations")
struct UnkeptConversationTests {
    static func marks(_ store: any SluiceDatabase) async throws -> [String] {
        try await StoreTests.column(
            "conversation_id", of: "SELECT conversation_id FROM unkept_conversations ORDER BY conversation_id", in: store)
    }

    /// A conversation of `user` with one message (written at `writtenAt`, by default when it was marked); marked
    /// unkept first (at `markedAt`) unless that is `nil`.
    static func conversation(
        _ store: any SluiceDatabase, user: User, title: String, markedAt: Date?, message status: MessageStatus = .complete,
        writtenAt: Date? = nil
    ) async throws -> Conversation {
        let conversation = Conversation.starting(userID: user.id, title: title, model: "m", systemPrompt: nil)
        if let markedAt { try await store.markUnkept(conversationID: conversation.id, at: markedAt) }
        let message = Message(
            id: Identifier.make(), conversationID: conversation.id, role: status == .streaming ? .assistant : .user,
            content: "the river Douro", status: status, model: "m", createdAt: writtenAt ?? markedAt ?? Date())
        try await store.createConversation(conversation, messages: [message])
        return conversation
    }

    @Test("an unkept conversation is out of the lists and search; deleting it takes its mark", arguments: TestDatabases.backends)
    func outOfSight(_ backend: StoreBackend) async throws {
        let (store, _) = try await StoreTests.makeStore(backend)
        let user = try await store.createUser(name: "u", plan: .free, tokenHash: "h")
        let kept = try await Self.conversation(store, user: user, title: "kept", markedAt: nil)
        let aside = try await Self.conversation(store, user: user, title: "aside", markedAt: Date())
        #expect(try await store.conversation(id: aside.id) != nil, "it is stored while its turn runs")
        #expect(try await store.conversations(userID: user.id).map(\.id) == [kept.id])
        try await store.archiveConversation(id: aside.id, at: Date())
        #expect(try await store.conversations(userID: user.id, archived: true).isEmpty)
        let found = try await store.searchConversations(userID: user.id, terms: try #require(SearchTerms("douro")), limit: 10)
        #expect(found.map(\.conversation.id) == [kept.id])

        try await store.deleteConversation(id: aside.id)
        #expect(try await store.conversation(id: aside.id) == nil)
        #expect(try await Self.marks(store).isEmpty)
        try await store.close()
    }

    @Test("recovery deletes the unkept conversations of interrupted answers and those that lapsed (no message for an hour); others stay",
          arguments: TestDatabases.backends)
    func recovered(_ backend: StoreBackend) async throws {
        let (store, path) = try await StoreTests.makeStore(backend)
        let user = try await store.createUser(name: "u", plan: .free, tokenHash: "h")
        let crashed = try await Self.conversation(store, user: user, title: "crashed", markedAt: Date(), message: .streaming)
        let lapsed = try await Self.conversation(store, user: user, title: "lapsed", markedAt: Date().addingTimeInterval(-7200))
        let running = try await Self.conversation(store, user: user, title: "running", markedAt: Date())
        // A temporary chat made two hours ago, still in use.
        let inUse = try await Self.conversation(
            store, user: user, title: "in use", markedAt: Date().addingTimeInterval(-7200), writtenAt: Date().addingTimeInterval(-60))
        let kept = try await Self.conversation(store, user: user, title: "kept", markedAt: nil, message: .streaming)
        try await store.close()

        let reopened = try await SluiceDatabases.open(path)
        try await reopened.migrate()
        #expect(try await reopened.recoverInterruptedMessages() == 2, "the crashed turn's answer and the kept one's")
        #expect(try await reopened.conversation(id: crashed.id) == nil)
        #expect(try await reopened.conversation(id: lapsed.id) == nil)
        #expect(try await reopened.conversation(id: running.id) != nil)
        #expect(try await reopened.conversation(id: inUse.id) != nil)
        let keptMessages = try await reopened.messages(conversationID: kept.id)
        #expect(keptMessages.map(\.status) == [.partial])
        #expect(try await Self.marks(reopened) == [running.id, inUse.id].sorted())
        try await reopened.close()
    }
}
