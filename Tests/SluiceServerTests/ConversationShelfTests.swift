import Foundation
import SluiceCore
import SluiceTestSupport
import Testing

/// `PATCH /api/conversations/{id}` with `pinned` and `archived`, and what the list and a turn make of them.
@Suite("Pinning and archiving conversations")
struct ConversationShelfTests {
    static func titles(_ h: Harness, _ query: String = "") async throws -> [String] {
        let reply = try await h.request(.GET, "/api/conversations\(query)", token: h.alice)
        return (reply.json?["conversations"] as? [[String: Any]])?.compactMap { $0["title"] as? String } ?? []
    }

    @Test("a pinned conversation leads the list; an archived one leaves it, cannot be written to, and comes back",
          arguments: TestDatabases.backends)
    func pinAndArchive(database: StoreBackend) async throws {
        try await Harness.run(database: database) { h in
            var ids: [String: String] = [:]
            for title in ["first", "second", "third"] {
                ids[title] = try await h.newConversation(h.alice, body: "{\"title\":\"\(title)\"}")
            }
            let path = { (title: String) in "/api/conversations/\(ids[title]!)" }
            #expect(try await Self.titles(h) == ["third", "second", "first"])

            let pinned = try await h.request(.PATCH, path("first"), token: h.alice, body: #"{"pinned":true}"#)
            #expect(pinned.status == 200 && pinned.json?["pinned_at"] is String && pinned.json?["archived_at"] == nil)
            #expect(try await Self.titles(h) == ["first", "third", "second"])

            // A message to an archived conversation is refused and not stored; the list moves it apart.
            let answered = try await h.send(ids["second"]!, token: h.alice)
            #expect(answered.last?.event == "done")
            let answerID = try #require(answered.assistantID)
            let archived = try await h.request(.PATCH, path("second"), token: h.alice, body: #"{"archived":true}"#)
            #expect(archived.status == 200 && archived.json?["archived_at"] is String)
            #expect(try await Self.titles(h) == ["first", "third"])
            #expect(try await Self.titles(h, "?archived=true") == ["second"])
            let refused = try await h.request(
                .POST, "\(path("second"))/messages", token: h.alice, body: #"{"content":"one more"}"#)
            #expect(refused.status == 409 && refused.json.flatMap { ($0["error"] as? [String: Any])?["code"] as? String } == "conversation_archived")
            #expect(try await h.request(.POST, "/api/messages/\(answerID)/regenerate", token: h.alice).status == 409)
            #expect(try await h.store.messages(conversationID: ids["second"]!).count == 2)
            // It can still be read, and found by a search.
            #expect(try await h.request(.GET, path("second"), token: h.alice).status == 200)
            #expect(try await Self.titles(h, "?q=second") == ["second"])
            // Pinning an archived conversation is a mistake; archiving a pinned one unpins it.
            #expect(try await h.request(.PATCH, path("second"), token: h.alice, body: #"{"pinned":true}"#).status == 400)
            #expect(try await h.request(.PATCH, path("first"), token: h.alice, body: #"{"archived":true}"#).status == 200)
            #expect(try await Self.titles(h, "?archived=true") == ["first", "second"])

            let back = try await h.request(.PATCH, path("second"), token: h.alice, body: #"{"archived":false}"#)
            #expect(back.status == 200 && back.json?["archived_at"] == nil)
            #expect(try await h.send(ids["second"]!, token: h.alice).last?.event == "done")
            #expect(try await Self.titles(h) == ["second", "third"])
            #expect(try await h.request(.PATCH, path("first"), token: h.alice, body: #"{"archived":false}"#).json?["pinned_at"] == nil)

            // Bad values and other users change nothing.
            for body in [#"{"pinned":"yes"}"#, #"{"archived":1}"#] {
                #expect(try await h.request(.PATCH, path("third"), token: h.alice, body: body).status == 400, "\(body)")
            }
            #expect(try await h.request(.GET, "/api/conversations?archived=maybe", token: h.alice).status == 400)
            #expect(try await h.request(.PATCH, path("third"), token: h.bob, body: #"{"archived":true}"#).status == 403)
            #expect(try await h.store.conversation(id: ids["third"]!)?.archivedAt == nil)
        }
    }
}
