import Foundation
import NIOHTTP1
import SluiceCore
import SluiceStore
import SluiceTestSupport
import Testing

@testable import SluiceServer

/// `/api/admin/users`: an administrator manages the other users from the web app, as `sluice user` does from a shell.
@Suite("Users managed by an administrator")
struct AdminUserRoutesTests {
    static let chat = #"{"model":"sim","messages":[{"role":"user","content":"hello there"}]}"#

    static func users(_ reply: Harness.Reply) -> [String: [String: Any]] {
        let listed = reply.json?["users"] as? [[String: Any]] ?? []
        return Dictionary(listed.map { ($0["name"] as? String ?? "", $0) }, uniquingKeysWith: { first, _ in first })
    }

    @Test("the first user is the administrator; anyone else, and an administrator's API key, gets 403",
          arguments: TestDatabases.backends)
    func onlyAdministrators(database: StoreBackend) async throws {
        try await Harness.run(database: database) { h in
            #expect(try await h.request(.GET, "/api/me", token: h.alice).json?["admin"] as? Bool == true)
            #expect(try await h.request(.GET, "/api/me", token: h.bob).json?["admin"] as? Bool == false)
            let listed = try await h.request(.GET, "/api/admin/users", token: h.alice)
            #expect(listed.status == 200)
            #expect(Self.users(listed).mapValues { $0["admin"] as? Bool } == ["alice": true, "bob": false])
            // Never a token, nor its hash.
            let text = String(decoding: try JSONSerialization.data(withJSONObject: try #require(listed.json)), as: UTF8.self)
            #expect(!text.contains(h.bob) && !text.contains(AccessToken.hash(h.bob)))

            for (method, path, body) in [
                (HTTPMethod.GET, "/api/admin/users", nil), (.POST, "/api/admin/users", #"{"name":"mallory"}"#),
                (.PATCH, "/api/admin/users/bob", #"{"admin":true}"#), (.POST, "/api/admin/users/alice/token", nil),
                (.POST, "/api/admin/users/bob/reset", nil),
            ] as [(HTTPMethod, String, String?)] {
                let refused = try await h.request(method, path, token: h.bob, body: body)
                #expect(refused.status == 403 && refused.errorCode == "admin_only", "\(method) \(path)")
            }
            #expect(try await h.store.user(named: "mallory") == nil)
            #expect(try await h.store.user(named: "bob")?.isAdmin == false)

            let key = try #require(try await h.request(.POST, "/api/keys", token: h.alice, body: #"{"label":"ci"}"#).json?["key"] as? String)
            let byKey = try await h.request(.POST, "/api/admin/users", token: key, body: #"{"name":"mallory"}"#)
            #expect(byKey.status == 403 && byKey.errorMessage?.contains("own token") == true)
            #expect(try await h.request(.GET, "/api/admin/users", token: nil).status == 401)
        }
    }

    @Test("a user added by the administrator signs in with the token shown once; plan, limits and models apply at once",
          arguments: TestDatabases.backends)
    func addAndChange(database: StoreBackend) async throws {
        try await Harness.run(budgets: true, database: database, listedModels: ["other"]) { h in
            let added = try await h.request(.POST, "/api/admin/users", token: h.alice, body: #"{"name":"  Zoë Ng ","plan":"pro"}"#)
            #expect(added.status == 201 && added.headers.first(name: "Cache-Control") == "no-store")
            let token = try #require(added.json?["token"] as? String)
            let user = try #require(added.json?["user"] as? [String: Any])
            #expect(user["name"] as? String == "Zoë Ng" && user["plan"] as? String == "pro" && user["admin"] as? Bool == false)
            #expect(user["token_limit"] as? Int == 50_000 && user["tokens_used"] as? Int == 0)
            let me = try await h.request(.GET, "/api/me", token: token)
            #expect(me.status == 200 && me.json?["name"] as? String == "Zoë Ng")

            // A turn of hers counts in the list.
            #expect(try await h.request(.POST, "/v1/chat/completions", token: token, body: Self.chat).status == 200)
            let zoe = try #require(Self.users(try await h.request(.GET, "/api/admin/users", token: h.alice))["Zoë Ng"])
            #expect((zoe["tokens_used"] as? Int ?? 0) > 0 && zoe["turns_30d"] as? Int == 1 && zoe["last_turn_at"] is String)

            // Her models: the next call is refused at once, although the server had just seen her token.
            let path = "/api/admin/users/Zo%C3%AB%20Ng"
            let limited = try await h.request(.PATCH, path, token: h.alice, body: #"{"models":["other"]}"#)
            #expect(limited.status == 200 && limited.json?["models"] as? [String] == ["other"])
            let refused = try await h.request(.POST, "/v1/chat/completions", token: token, body: Self.chat)
            #expect(refused.status == 403 && refused.errorCode == "model_not_allowed")
            #expect(try await h.request(.PATCH, path, token: h.alice, body: #"{"models":null}"#).json?["models"] is NSNull)

            // Her plan and token limit: a limit of 0 refuses her next turn before anything is spent.
            let free = try await h.request(.PATCH, path, token: h.alice, body: #"{"plan":"free"}"#)
            #expect(free.json?["plan"] as? String == "free" && free.json?["token_limit"] as? Int == 4_000)
            let capped = try await h.request(.PATCH, path, token: h.alice, body: #"{"token_limit":0,"daily_usd":"1.50","requests_per_minute":30}"#)
            #expect(capped.status == 200 && capped.json?["token_limit"] as? Int == 0 && capped.json?["plan"] as? String == "free")
            #expect(capped.json?["daily_usd_limit"] as? String == "1.5" && capped.json?["requests_per_minute"] as? Int == 30)
            let overBudget = try await h.request(.POST, "/v1/chat/completions", token: token, body: Self.chat)
            #expect(overBudget.status == 429 && overBudget.errorCode == "budget_exceeded")
            // Reset, and back to the plan's own limit: she chats again.
            let reset = try await h.request(.POST, "\(path)/reset", token: h.alice)
            #expect(reset.status == 200 && reset.json?["tokens_used"] as? Int == 0)
            let restored = try await h.request(.PATCH, path, token: h.alice, body: #"{"token_limit":null,"daily_usd":null,"requests_per_minute":null}"#)
            #expect(restored.json?["token_limit"] as? Int == 4_000 && restored.json?["daily_usd_limit"] is NSNull)
            #expect(restored.json?["requests_per_minute"] is NSNull)
            #expect(try await h.request(.POST, "/v1/chat/completions", token: token, body: Self.chat).status == 200)

            // A new token: the old one stops working at once.
            let renewed = try await h.request(.POST, "\(path)/token", token: h.alice)
            let newToken = try #require(renewed.json?["token"] as? String)
            #expect(renewed.headers.first(name: "Cache-Control") == "no-store")
            #expect(try await h.request(.GET, "/api/me", token: token).status == 401)
            #expect(try await h.request(.GET, "/api/me", token: newToken).json?["name"] as? String == "Zoë Ng")
        }
    }

    @Test("a bad name, plan or limit is a 400 that names the field; a taken name a 409; an unknown user a 404")
    func refusals() async throws {
        try await Harness.run(budgets: true) { h in
            let taken = try await h.request(.POST, "/api/admin/users", token: h.alice, body: #"{"name":"bob"}"#)
            #expect(taken.status == 409 && taken.errorCode == "name_taken")
            let long = String(repeating: "n", count: 65)
            for bad in [#"{"name":"  "}"#, #"{"name":"a/b"}"#, #"{"name":"a\nb"}"#, #"{"name":"\#(long)"}"#, #"{"plan":"pro"}"#] {
                let reply = try await h.request(.POST, "/api/admin/users", token: h.alice, body: bad)
                #expect(reply.status == 400 && reply.errorMessage?.contains("'name'") == true, "\(bad)")
            }
            for (bad, field) in [
                (#"{"plan":"gold"}"#, "'plan'"), (#"{"token_limit":-1}"#, "'token_limit'"), (#"{"daily_usd":"0"}"#, "'daily_usd'"),
                (#"{"models":[]}"#, "'models'"), (#"{"models":["nope"]}"#, "'nope'"), (#"{"tokens_per_minute":0}"#, "'tokens_per_minute'"),
                (#"{"admin":"yes"}"#, "'admin'"), (#"{"email":"a@b.c"}"#, "'email'"), (#"{"password":"x"}"#, "8 characters"),
            ] {
                let reply = try await h.request(.PATCH, "/api/admin/users/bob", token: h.alice, body: bad)
                #expect(reply.status == 400 && reply.errorMessage?.contains(field) == true, "\(bad): \(reply.errorMessage ?? "")")
            }
            // Nothing changed by the refused requests.
            let bob = try #require(Self.users(try await h.request(.GET, "/api/admin/users", token: h.alice))["bob"])
            #expect(bob["plan"] as? String == "free" && bob["models"] is NSNull && bob["admin"] as? Bool == false)
            let missing = try await h.request(.PATCH, "/api/admin/users/carol", token: h.alice, body: #"{"plan":"pro"}"#)
            #expect(missing.status == 404 && missing.errorMessage?.contains("carol") == true)
        }
    }

    @Test("a suspended user's token, keys and shared links are refused until restored; nothing of theirs is lost",
          arguments: TestDatabases.backends)
    func suspension(database: StoreBackend) async throws {
        try await Harness.run(database: database) { h in
            let key = try #require(try await h.request(.POST, "/api/keys", token: h.bob, body: #"{"label":"ci"}"#).json?["key"] as? String)
            let made = try await h.request(.POST, "/v1/chat/completions", token: key, body: Self.chat)
            let conversation = try #require(made.headers.first(name: "X-Sluice-Conversation-Id"))
            let shared = try #require(
                try await h.request(.POST, "/api/conversations/\(conversation)/share", token: h.bob).json?["url"] as? String)
            #expect(try await h.request(.GET, "\(shared)/data", token: nil).status == 200)
            // Seen by the server just now (cached), and refused at once all the same.
            #expect(try await h.request(.GET, "/api/me", token: h.bob).status == 200)
            let suspended = try await h.request(.PATCH, "/api/admin/users/bob", token: h.alice, body: #"{"suspended":true}"#)
            #expect(suspended.status == 200 && suspended.json?["suspended_at"] is String)
            for token in [h.bob, key] {
                let refused = try await h.request(.GET, "/api/conversations/\(conversation)", token: token)
                #expect(refused.status == 403 && refused.errorCode == "account_suspended")
                #expect(refused.errorMessage?.contains("Ask an administrator to restore it") == true)
                #expect(try await h.request(.POST, "/v1/chat/completions", token: token, body: Self.chat).status == 403)
            }
            // What the account shared reads nothing meanwhile, as a deactivated ChatGPT account's links.
            let link = try await h.request(.GET, "\(shared)/data", token: nil)
            #expect(link.status == 404 && link.errorCode == "share_not_found")
            let selfSuspended = try await h.request(.PATCH, "/api/admin/users/alice", token: h.alice, body: #"{"suspended":true}"#)
            #expect(selfSuspended.status == 409 && selfSuspended.errorCode == "cannot_suspend_self")
            #expect(try await h.request(.GET, "/api/me", token: h.alice).status == 200)

            let restored = try await h.request(.PATCH, "/api/admin/users/bob", token: h.alice, body: #"{"suspended":false}"#)
            #expect(restored.status == 200 && restored.json?["suspended_at"] is NSNull)
            #expect(try await h.request(.GET, "/api/conversations/\(conversation)", token: h.bob).messages.count == 2)
            #expect(try await h.request(.POST, "/v1/chat/completions", token: key, body: Self.chat).status == 200)
            #expect(try await h.request(.GET, "\(shared)/data", token: nil).status == 200)
        }
    }

    @Test("an administrator sees everyone's usage per user (by day, model or user only); anyone else gets 403",
          arguments: TestDatabases.backends)
    func everyonesUsage(database: StoreBackend) async throws {
        try await Harness.run(budgets: true, database: database) { h in
            for token in [h.alice, h.bob, h.bob] {
                #expect(try await h.request(.POST, "/v1/chat/completions", token: token, body: Self.chat).status == 200)
            }
            let everyone = try await h.request(.GET, "/api/usage?period=today&group=user&scope=all", token: h.alice)
            #expect(everyone.status == 200)
            let series = try #require(everyone.json?["series"] as? [[String: Any]])
            // Largest first, each user by name.
            #expect(series.map { $0["label"] as? String } == ["bob", "alice"])
            #expect(series.map { $0["turns"] as? Int } == [2, 1])
            let alice = try #require(try await h.store.user(named: "alice"))
            #expect(series.last?["key"] as? String == alice.id)
            let byDay = try await h.request(.GET, "/api/usage?period=today&group=day&scope=all", token: h.alice)
            #expect((byDay.json?["totals"] as? [String: Any])?["turns"] as? Int == 3)
            let own = try await h.request(.GET, "/api/usage?period=today&group=day", token: h.alice)
            #expect((own.json?["totals"] as? [String: Any])?["turns"] as? Int == 1)

            let conversations = try await h.request(.GET, "/api/usage?period=today&group=conversation&scope=all", token: h.alice)
            #expect(conversations.status == 400 && conversations.errorMessage?.contains("stay theirs") == true)
            let refused = try await h.request(.GET, "/api/usage?period=today&group=user&scope=all", token: h.bob)
            #expect(refused.status == 403 && refused.errorCode == "admin_only")
            #expect(try await h.request(.GET, "/api/usage?scope=everyone", token: h.alice).status == 400)
        }
    }

    @Test("an administrator deletes a user: their token and keys are refused at once, their name is free, their usage stays",
          arguments: TestDatabases.backends)
    func deletion(database: StoreBackend) async throws {
        try await Harness.run(budgets: true, database: database) { h in
            let key = try #require(try await h.request(.POST, "/api/keys", token: h.bob, body: #"{"label":"ci"}"#).json?["key"] as? String)
            #expect(try await h.request(.POST, "/v1/chat/completions", token: key, body: Self.chat).status == 200)
            #expect(try await h.request(.DELETE, "/api/admin/users/bob", token: h.bob).status == 403)
            let own = try await h.request(.DELETE, "/api/admin/users/alice", token: h.alice)
            #expect(own.status == 409 && own.errorCode == "cannot_delete_self")

            #expect(try await h.request(.DELETE, "/api/admin/users/bob", token: h.alice).status == 204)
            for token in [h.bob, key] { #expect(try await h.request(.GET, "/api/me", token: token).status == 401) }
            #expect(Self.users(try await h.request(.GET, "/api/admin/users", token: h.alice)).keys.sorted() == ["alice"])
            #expect(try await h.request(.DELETE, "/api/admin/users/bob", token: h.alice).status == 404)
            let everyone = try await h.request(.GET, "/api/usage?period=today&group=user&scope=all", token: h.alice)
            let labels = (everyone.json?["series"] as? [[String: Any]] ?? []).compactMap { $0["label"] as? String }
            #expect(labels.count == 1 && labels.first?.hasPrefix("deleted-") == true)
            #expect(try await h.request(.POST, "/api/admin/users", token: h.alice, body: #"{"name":"bob"}"#).status == 201)
        }
    }

    @Test("the last administrator stays one; another made an administrator may then take the role away",
          arguments: TestDatabases.backends)
    func lastAdministrator(database: StoreBackend) async throws {
        try await Harness.run(database: database) { h in
            let alone = try await h.request(.PATCH, "/api/admin/users/alice", token: h.alice, body: #"{"admin":false}"#)
            #expect(alone.status == 409 && alone.errorCode == "last_admin")
            #expect(try await h.store.user(named: "alice")?.isAdmin == true)
            let promoted = try await h.request(.PATCH, "/api/admin/users/bob", token: h.alice, body: #"{"admin":true}"#)
            #expect(promoted.status == 200 && promoted.json?["admin"] as? Bool == true)
            // Bob may manage users at once, and take Alice's role; she is refused at once.
            #expect(try await h.request(.PATCH, "/api/admin/users/alice", token: h.bob, body: #"{"admin":false}"#).status == 200)
            #expect(try await h.request(.GET, "/api/admin/users", token: h.alice).status == 403)
            #expect(try await h.request(.GET, "/api/me", token: h.alice).json?["admin"] as? Bool == false)
            let added = try await h.request(.POST, "/api/admin/users", token: h.bob, body: #"{"name":"carol","admin":true}"#)
            #expect(added.status == 201 && (added.json?["user"] as? [String: Any])?["admin"] as? Bool == true)
        }
    }
}
