import Foundation
import SluiceCore
import SluiceTestSupport
import Testing

/// A temporary chat (`POST /api/conversations` with `temporary: true`, the web app's "Temporary chat"): a conversation
/// like any other while it is open, out of the user's list and search from the start, deleted when the user leaves it
/// (the web app deletes it) or once it lapses — an hour without a message — by the sweep.
@Suite("Temporary chats")
struct TemporaryChatTests {
    @Test("made temporary: answered like any conversation, but never listed or found; deleted, it is gone",
          arguments: TestDatabases.backends)
    func temporary(database: StoreBackend) async throws {
        try await Harness.run(database: database) { h in
            let made = try await h.request(.POST, "/api/conversations", token: h.alice, body: #"{"temporary":true}"#)
            #expect(made.status == 201)
            #expect(made.json?["temporary"] as? Bool == true)
            let id = try #require(made.json?["id"] as? String)
            let turn = try await h.send(id, token: h.alice, body: #"{"content":"A secret about plovers"}"#)
            #expect(turn.final?["finish_reason"] as? String == "stop", "\(turn.body)")

            let shown = try await h.request(.GET, "/api/conversations/\(id)", token: h.alice)
            #expect((shown.json?["messages"] as? [[String: Any]])?.count == 2)
            #expect(shown.json?["temporary"] as? Bool == true)
            // Another user may not read it.
            #expect(try await h.request(.GET, "/api/conversations/\(id)", token: h.bob).status == 403)
            // Not in the list, not found by search.
            let normal = try await h.newConversation(h.alice)
            let listed = try await h.request(.GET, "/api/conversations", token: h.alice)
            let ids = (listed.json?["conversations"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
            #expect(ids.contains(normal) && !ids.contains(id))
            let found = try await h.request(.GET, "/api/conversations?q=plovers", token: h.alice)
            #expect((found.json?["conversations"] as? [[String: Any]])?.isEmpty == true)
            // A conversation made without it says nothing of it.
            let plain = try await h.request(.POST, "/api/conversations", token: h.alice, body: "{}")
            #expect(plain.json?.keys.contains("temporary") == false)
            let plainID = try #require(plain.json?["id"] as? String)
            #expect(try await h.request(.GET, "/api/conversations/\(plainID)", token: h.alice).json?.keys.contains("temporary") == false)

            #expect(try await h.request(.DELETE, "/api/conversations/\(id)", token: h.alice).status == 204)
            #expect(try await h.store.conversation(id: id) == nil)
            #expect(try await h.request(.GET, "/api/conversations/\(id)", token: h.alice).status == 404)
            #expect(try await ResponsesStoreTests.conversations(h).contains(id) == false)

            let bad = try await h.request(.POST, "/api/conversations", token: h.alice, body: #"{"temporary":"yes"}"#)
            #expect(bad.status == 400)
        }
    }

    @Test("the sweep deletes a temporary chat after an hour without a message, and leaves one in use, one being answered and kept ones",
          arguments: TestDatabases.backends)
    func lapsed(database: StoreBackend) async throws {
        try await Harness.run(database: database) { h in
            let alice = try #require(try await h.store.user(named: "alice"))
            let now = Date()
            let twoHoursAgo = now.addingTimeInterval(-7200)
            /// A conversation marked unkept two hours ago (unless `kept`), with a message written `messageAge` ago.
            func conversation(kept: Bool = false, messageAge: TimeInterval?, status: MessageStatus = .complete) async throws -> String {
                let made = try await h.store.createConversation(userID: alice.id, title: "t", model: "sim", systemPrompt: nil)
                if !kept { try await h.store.markUnkept(conversationID: made.id, at: twoHoursAgo) }
                if let messageAge {
                    try await h.store.insert(Message(
                        id: Identifier.make(), conversationID: made.id, role: .assistant, content: "x", status: status,
                        model: "sim", createdAt: now.addingTimeInterval(-messageAge)))
                }
                return made.id
            }
            let idle = try await conversation(messageAge: 3900)
            let empty = try await conversation(messageAge: nil)
            let inUse = try await conversation(messageAge: 600)
            let answering = try await conversation(messageAge: 3900, status: .streaming)
            let kept = try await conversation(kept: true, messageAge: 7000)

            #expect(try await h.store.deleteLapsedUnkept(now: now) == 2)
            for (id, stays) in [(idle, false), (empty, false), (inUse, true), (answering, true), (kept, true)] {
                let exists = try await h.store.conversation(id: id) != nil
                #expect(exists == stays, "\(id)")
            }
            // Recovery at start (and PostgreSQL's heartbeat) keeps a temporary chat in use too, however old its mark.
            _ = try await h.store.recoverInterruptedMessages()
            #expect(try await h.store.conversation(id: inUse) != nil)
            // An hour later with nothing new, it lapses.
            #expect(try await h.store.deleteLapsedUnkept(now: now.addingTimeInterval(3600)) >= 1)
            #expect(try await h.store.conversation(id: inUse) == nil)
            #expect(try await h.store.conversation(id: kept) != nil)
        }
    }

    @Test("a temporary chat that its page keeps alive does not lapse an hour after its last message; the others do",
          arguments: TestDatabases.backends)
    func keptAlive(database: StoreBackend) async throws {
        try await Harness.run(database: database) { h in
            let alice = try #require(try await h.store.user(named: "alice"))
            let twoHoursAgo = Date().addingTimeInterval(-7200)
            var chats: [String] = []
            for _ in 0..<2 {
                let made = try await h.store.createConversation(userID: alice.id, title: "t", model: "sim", systemPrompt: nil)
                try await h.store.markUnkept(conversationID: made.id, at: twoHoursAgo)
                chats.append(made.id)
            }
            let (open, left) = (chats[0], chats[1])
            #expect(try await h.request(.POST, "/api/conversations/\(open)/keep-alive", token: h.bob).status == 403)
            #expect(try await h.request(.POST, "/api/conversations/\(open)/keep-alive", token: h.alice).status == 204)

            #expect(try await h.store.deleteLapsedUnkept(now: Date()) == 1)
            #expect(try await h.store.conversation(id: open) != nil)
            #expect(try await h.store.conversation(id: left) == nil)
            // An hour after the page last said so, it lapses too.
            #expect(try await h.store.deleteLapsedUnkept(now: Date().addingTimeInterval(3700)) == 1)
            #expect(try await h.store.conversation(id: open) == nil)

            let kept = try await h.newConversation(h.alice)
            let refused = try await h.request(.POST, "/api/conversations/\(kept)/keep-alive", token: h.alice)
            #expect(refused.status == 409 && refused.errorCode == "not_temporary")
            #expect(try await h.request(.POST, "/api/conversations/\(left)/keep-alive", token: h.alice).status == 404)
        }
    }
}
