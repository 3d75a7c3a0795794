import Foundation
import SluiceCore
import SluiceTestSupport
import Testing
@testable import SluiceStore

@Suite("Conversation search")
struct ConversationSearchTests {
    @Test("finds a user's conversations with every word in the title or messages, ignoring case, with `%` and `_` taken literally",
          arguments: TestDatabases.backends)
    func search(_ backend: StoreBackend) async throws {
        let (store, _) = try await TestDatabases.makeStore(backend)
        try await store.migrate()
        let ann = try await store.createUser(name: "ann", plan: .free, tokenHash: "ann")
        let bob = try await store.createUser(name: "bob", plan: .free, tokenHash: "bob")
        let now = Date()
        func conversation(_ user: User, _ title: String, _ texts: [String], at offset: Double) async throws -> Conversation {
            var conversation = Conversation.starting(userID: user.id, title: title, model: "m", systemPrompt: nil)
            conversation.createdAt = now.addingTimeInterval(offset)
            conversation.updatedAt = conversation.createdAt
            let messages = texts.enumerated().map { index, text in
                Message(id: Identifier.make(), conversationID: conversation.id, role: index % 2 == 0 ? .user : .assistant,
                        content: text, status: .complete, model: nil, createdAt: now.addingTimeInterval(offset + Double(index)))
            }
            try await store.createConversation(conversation, messages: messages)
            return conversation
        }
        let lisbon = try await conversation(ann, "Trip to Lisbon", ["Where should I eat?", "Try the pastéis de nata in Belém."], at: 0)
        let swift = try await conversation(ann, "Swift questions", ["What is 100% safe in Swift 6?", "Data-race safety: the compiler checks it."], at: 10)
        let names = try await conversation(ann, "Naming", ["snake_case or camelCase?", "In Swift, camelCase."], at: 20)
        _ = try await conversation(bob, "Bob's Lisbon notes", ["lisbon lisbon"], at: 30)

        #expect(try await store.searchConversations(userID: ann.id, terms: try #require(SearchTerms("LISBON")), limit: 10).map(\.conversation.id) == [lisbon.id])
        let byMessage = try await store.searchConversations(userID: ann.id, terms: try #require(SearchTerms("swift")), limit: 10)
        // Newest first; a title match alone has no message, a message match names the first message with the words.
        #expect(byMessage.map(\.conversation.id) == [names.id, swift.id])
        #expect(byMessage.first?.message == "In Swift, camelCase.")
        #expect(byMessage.last?.message == "What is 100% safe in Swift 6?")
        #expect(try await store.searchConversations(userID: ann.id, terms: try #require(SearchTerms("Lisbon")), limit: 10).first?.message == nil)
        #expect(try await store.searchConversations(userID: ann.id, terms: try #require(SearchTerms("100%")), limit: 10).map(\.conversation.id) == [swift.id])
        #expect(try await store.searchConversations(userID: ann.id, terms: try #require(SearchTerms("e_c")), limit: 10).map(\.conversation.id) == [names.id])
        #expect(try await store.searchConversations(userID: ann.id, terms: try #require(SearchTerms("%")), limit: 10).map(\.conversation.id) == [swift.id])
        #expect(try await store.searchConversations(userID: ann.id, terms: try #require(SearchTerms("swift")), limit: 1).count == 1)
        #expect(try await store.searchConversations(userID: ann.id, terms: try #require(SearchTerms("kyoto")), limit: 10).isEmpty)

        // Every word, in any order, anywhere in the conversation — title or messages, not only one message; a quoted
        // phrase only as written.
        let search = { (query: String) in
            try await store.searchConversations(userID: ann.id, terms: try #require(SearchTerms(query)), limit: 10)
        }
        #expect(try await search("nata LISBON").map(\.conversation.id) == [lisbon.id])
        #expect(try await search("eat belém").map(\.conversation.id) == [lisbon.id])
        #expect(try await search("eat kyoto").isEmpty, "a conversation with only some of the words is not found")
        #expect(try await search(#""the compiler checks""#).map(\.conversation.id) == [swift.id])
        #expect(try await search(#""checks the compiler""#).isEmpty)
        // The hit is the message with the most of the words, not merely the first with one of them.
        #expect(try await search("swift compiler safety").first?.message == "Data-race safety: the compiler checks it.")
        #expect(try await search("camelcase snake").first?.message == "snake_case or camelCase?")
        try await store.close()
    }
}
