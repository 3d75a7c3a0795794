import Foundation
import SluiceCore
import SluiceTestSupport
import Testing
@testable import SluiceStore

/// Paging a user's conversation list (`conversationPage`): the pages, read one after another, are the whole list in
/// its order, whatever the page size, with pinned ones, equal moments, projects, archived and temporary ones mixed in.
@Suite("Conversation list pages")
struct ConversationPageTests {
    /// What the test made, to work out the expected order without the store.
    struct Made {
        var conversation: Conversation
        var order: Int
        var temporary = false
    }

    static func expected(_ made: [Made], archived: Bool, project: ConversationListing.ProjectFilter) -> [String] {
        made.filter { item in
            guard !item.temporary, (item.conversation.archivedAt != nil) == archived else { return false }
            switch project {
            case .any: return true
            case .none: return item.conversation.projectID == nil
            case .project(let id): return item.conversation.projectID == id
            }
        }.sorted { a, b in
            let (x, y) = (a.conversation, b.conversation)
            if archived {
                if x.archivedAt != y.archivedAt { return x.archivedAt! > y.archivedAt! }
            } else {
                if (x.pinnedAt == nil) != (y.pinnedAt == nil) { return x.pinnedAt != nil }
                if x.updatedAt != y.updatedAt { return x.updatedAt > y.updatedAt }
            }
            return a.order > b.order
        }.map(\.conversation.id)
    }

    /// Reads every page of `listing` with pages of `limit`; fails on a page larger than asked or an endless list.
    static func allPages(_ store: any SluiceDatabase, _ userID: String, _ listing: ConversationListing) async throws -> [String] {
        var listing = listing
        var ids: [String] = []
        for _ in 0..<1_000 {
            let page = try await store.conversationPage(userID: userID, listing: listing)
            #expect(page.conversations.count <= listing.limit ?? .max)
            ids += page.conversations.map(\.id)
            guard let next = page.next else { return ids }
            #expect(page.conversations.count == listing.limit, "a page before the last is full")
            listing.after = next
        }
        Issue.record("the pages never ended")
        return ids
    }

    @Test("every page size reads the whole list in order, for the list and the archived, in any project, none or one",
          arguments: TestDatabases.backends)
    func pagesMakeTheList(_ backend: StoreBackend) async throws {
        let (store, _) = try await TestDatabases.makeStore(backend)
        let alice = try await store.createUser(name: "alice", plan: .free, tokenHash: "a")
        let bob = try await store.createUser(name: "bob", plan: .free, tokenHash: "b")
        var project = Project.starting(userID: alice.id, name: "Thesis", instructions: nil)
        try await store.createProject(project)
        project = try #require(try await store.project(id: project.id))
        var random = SeededGenerator(seed: 45)
        var made: [Made] = []
        let base = 1_800_000_000.0
        for order in 0..<60 {
            var conversation = Conversation.starting(userID: alice.id, title: "c\(order)", model: "m", systemPrompt: nil)
            // Few distinct moments, so that many share one and the tie-break decides.
            conversation.updatedAt = Date(timeIntervalSince1970: base + Double(Int.random(in: 0..<8, using: &random)))
            try await store.createConversation(conversation, messages: [])
            var item = Made(conversation: conversation, order: order)
            switch Int.random(in: 0..<10, using: &random) {
            case 0, 1:
                let at = Date(timeIntervalSince1970: base + 100 + Double(Int.random(in: 0..<3, using: &random)))
                try await store.pinConversation(id: conversation.id, at: at)
                item.conversation.pinnedAt = at
            case 2, 3:
                let at = Date(timeIntervalSince1970: base + 200 + Double(Int.random(in: 0..<4, using: &random)))
                try await store.archiveConversation(id: conversation.id, at: at)
                item.conversation.archivedAt = at
            case 4:
                try await store.markUnkept(conversationID: conversation.id, at: conversation.updatedAt)
                item.temporary = true
            default: break
            }
            if Bool.random(using: &random) {
                try await store.moveConversation(id: conversation.id, toProject: project.id)
                item.conversation.projectID = project.id
            }
            made.append(item)
        }
        _ = try await store.createConversation(userID: bob.id, title: "bob's", model: "m", systemPrompt: nil)
        #expect(made.contains { $0.conversation.pinnedAt != nil } && made.contains { $0.conversation.archivedAt != nil })

        for archived in [false, true] {
            for filter in [ConversationListing.ProjectFilter.any, .none, .project(project.id)] {
                let expected = Self.expected(made, archived: archived, project: filter)
                #expect(!expected.isEmpty)
                let whole = try await store.conversationPage(
                    userID: alice.id, listing: ConversationListing(archived: archived, project: filter))
                #expect(whole.conversations.map(\.id) == expected, "the whole list, archived: \(archived), \(filter)")
                #expect(whole.next == nil)
                for limit in [1, 2, 3, 7, 50, 100] {
                    let paged = try await Self.allPages(
                        store, alice.id, ConversationListing(archived: archived, project: filter, limit: limit))
                    #expect(paged == expected, "pages of \(limit), archived: \(archived), \(filter)")
                }
            }
        }
        // Counted by project: the listed ones only (not archived, not temporary).
        let held = made.filter { $0.conversation.projectID != nil && $0.conversation.archivedAt == nil && !$0.temporary }.count
        #expect(try await store.projectConversationCounts(userID: alice.id) == [project.id: held])
        #expect(try await store.projectConversationCounts(userID: bob.id) == [:])
        try await store.close()
    }

    @Test("a conversation that moves to the top between pages is not read twice, and none is skipped that stayed",
          arguments: TestDatabases.backends)
    func movingBetweenPages(_ backend: StoreBackend) async throws {
        let (store, _) = try await TestDatabases.makeStore(backend)
        let alice = try await store.createUser(name: "alice", plan: .free, tokenHash: "a")
        var ids: [String] = []
        for index in 0..<10 {
            var conversation = Conversation.starting(userID: alice.id, title: "c\(index)", model: "m", systemPrompt: nil)
            conversation.updatedAt = Date(timeIntervalSince1970: 1_800_000_000 + Double(index))
            try await store.createConversation(conversation, messages: [])
            ids.insert(conversation.id, at: 0)
        }
        let first = try await store.conversationPage(userID: alice.id, listing: ConversationListing(limit: 4))
        #expect(first.conversations.map(\.id) == Array(ids[0..<4]))
        // One of the first page gets a message (to the top, where it was), and one of the rest too.
        for (index, second) in [(2, 100.0), (6, 101.0)] {
            try await store.insert(Message(
                id: Identifier.make(), conversationID: ids[index], role: .user, content: "more", status: .complete, model: "m",
                createdAt: Date(timeIntervalSince1970: 1_800_000_000 + second)))
        }
        let rest = try await Self.allPages(store, alice.id, ConversationListing(limit: 4, after: first.next))
        #expect(rest == [ids[4], ids[5], ids[7], ids[8], ids[9]], "the one moved up is on the first page now, read again from the top")
        try await store.close()
    }
}
