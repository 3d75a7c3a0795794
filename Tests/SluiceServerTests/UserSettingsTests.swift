import Foundation
import SluiceCore
import SluiceTestSupport
import Testing

/// A user's own settings (`/api/me/settings`): automatic titles, on until the user turns them off.
@Suite("User settings")
struct UserSettingsTests {
    static func settings(_ reply: Harness.Reply) -> Bool? { reply.json?["auto_titles"] as? Bool }

    @Test("automatic titles: on by default; turned off, the web app's call after a first answer is refused and charges nothing, while ✨ still names it; each user's own, kept across restarts of the page",
          arguments: TestDatabases.backends)
    func automaticTitles(database: StoreBackend) async throws {
        // With budgets on, every call upstream is in the ledger.
        try await Harness.run(budgets: true, database: database) { h in
            #expect(Self.settings(try await h.request(.GET, "/api/me/settings", token: h.alice)) == true)
            let off = try await h.request(.PATCH, "/api/me/settings", token: h.alice, body: #"{"auto_titles":false}"#)
            #expect(off.status == 200 && Self.settings(off) == false)
            #expect(Self.settings(try await h.request(.GET, "/api/me/settings", token: h.alice)) == false)
            #expect(Self.settings(try await h.request(.GET, "/api/me/settings", token: h.bob)) == true, "another user's is their own")

            let conversation = try await h.newConversation(h.alice)
            _ = try await h.send(conversation, token: h.alice, body: #"{"content":"How do I reverse a list in Python?"}"#)
            let spent = try await h.store.conversationTokens(conversationID: conversation)
            let automatic = try await h.request(.POST, "/api/conversations/\(conversation)/title?automatic=true", token: h.alice)
            #expect(automatic.status == 409 && automatic.errorCode == "auto_titles_off")
            #expect(automatic.errorMessage?.contains("✨") == true)
            #expect(try await h.store.conversation(id: conversation)?.title == "How do I reverse a list in Python?")
            #expect(try await h.store.conversationTokens(conversationID: conversation) == spent, "nothing went upstream")
            // Asked by hand, it is written (and charged).
            let byHand = try await h.request(.POST, "/api/conversations/\(conversation)/title", token: h.alice)
            #expect(byHand.status == 200)
            #expect(try await h.store.conversationTokens(conversationID: conversation) > spent)

            // On again: the automatic call names the next conversation.
            #expect(Self.settings(try await h.request(.PATCH, "/api/me/settings", token: h.alice, body: #"{"auto_titles":true}"#)) == true)
            let next = try await h.newConversation(h.alice)
            _ = try await h.send(next, token: h.alice, body: #"{"content":"Plan a day in Lisbon"}"#)
            #expect(try await h.request(.POST, "/api/conversations/\(next)/title?automatic=true", token: h.alice).status == 200)
            #expect(try await h.store.conversation(id: next)?.title != "Plan a day in Lisbon")
        }
    }

    @Test("a setting that does not exist or a value that is not true or false is a 400 that says what to send")
    func badSettings() async throws {
        try await Harness.run { h in
            let unknown = try await h.request(.PATCH, "/api/me/settings", token: h.alice, body: #"{"theme":"dark"}"#)
            #expect(unknown.status == 400 && unknown.errorMessage?.contains("'theme' is not a setting") == true)
            let notBool = try await h.request(.PATCH, "/api/me/settings", token: h.alice, body: #"{"auto_titles":"no"}"#)
            #expect(notBool.status == 400 && notBool.errorMessage?.contains("true or false") == true)
            #expect(Self.settings(try await h.request(.GET, "/api/me/settings", token: h.alice)) == true)
            #expect(try await h.request(.GET, "/api/me/settings", token: nil).status == 401)
        }
    }

    @Test("GET /api/me says whom the token belongs to: the user's name, plan and models, nobody else's; no token, 401")
    func whoAmI() async throws {
        try await Harness.run { h in
            let bob = try #require(try await h.store.user(named: "bob"))
            try await h.store.setAllowedModels(userID: bob.id, models: ["sim"])
            let alice = try await h.request(.GET, "/api/me", token: h.alice)
            #expect(alice.status == 200)
            #expect(alice.json?["name"] as? String == "alice" && alice.json?["plan"] as? String == "free")
            #expect(alice.json?["id"] as? String == (try await h.store.user(named: "alice"))?.id)
            #expect(alice.json?["models"] is NSNull, "every model the server serves")
            #expect((alice.json?["created_at"] as? String)?.isEmpty == false)
            let asBob = try await h.request(.GET, "/api/me", token: h.bob)
            #expect(asBob.json?["name"] as? String == "bob" && asBob.json?["id"] as? String == bob.id)
            #expect(asBob.json?["models"] as? [String] == ["sim"])
            #expect(try await h.request(.GET, "/api/me", token: nil).status == 401)
        }
    }
}
