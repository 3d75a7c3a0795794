import Foundation
import NIOHTTP1
import SluiceCore
import SluiceStore
import SluiceTestSupport
import Testing

@testable import SluiceServer

/// `POST /api/sign-in`, `POST /api/sign-out`, `PUT /api/me/password`: signing in with a name and password.
@Suite("Signing in with a password")
struct SignInRoutesTests {
    static func signIn(_ h: Harness, _ name: String, _ password: String) async throws -> Harness.Reply {
        let body = String(decoding: try JSONSerialization.data(withJSONObject: ["name": name, "password": password]), as: UTF8.self)
        return try await h.request(.POST, "/api/sign-in", token: nil, body: body)
    }

    static func session(_ reply: Harness.Reply) throws -> String { try #require(reply.json?["token"] as? String) }

    @Test("a user with a password signs in by name to a session of their own, which signing out ends; a wrong password and an unknown name get the same 401",
          arguments: TestDatabases.backends)
    func signInAndOut(database: StoreBackend) async throws {
        try await Harness.run(database: database) { h in
            // No password yet: only the token signs Alice in.
            let none = try await Self.signIn(h, "alice", "correct horse")
            #expect(none.status == 401 && none.errorCode == "invalid_credentials")
            #expect(try await h.request(.GET, "/api/me", token: h.alice).json?["has_password"] as? Bool == false)
            let set = try await h.request(.PUT, "/api/me/password", token: h.alice, body: #"{"password":"correct horse"}"#)
            #expect(set.status == 200 && set.json?["ended_sessions"] as? Int == 0)
            #expect(try await h.request(.GET, "/api/me", token: h.alice).json?["has_password"] as? Bool == true)

            let signedIn = try await Self.signIn(h, "  alice ", "correct horse")
            #expect(signedIn.status == 200 && signedIn.headers.first(name: "Cache-Control") == "no-store")
            let user = try #require(signedIn.json?["user"] as? [String: Any])
            #expect(user["name"] as? String == "alice" && user["admin"] as? Bool == true && user["has_password"] as? Bool == true)
            #expect((signedIn.json?["expires_at"] as? String)?.hasPrefix("20") == true)
            let session = try Self.session(signedIn)
            #expect(session != h.alice && session.hasPrefix("sluice_"))
            // The session is Alice herself: her conversations, and as the administrator, the users.
            #expect(try await h.request(.GET, "/api/me", token: session).json?["name"] as? String == "alice")
            #expect(try await h.request(.GET, "/api/admin/users", token: session).status == 200)

            let wrong = try await Self.signIn(h, "alice", "Correct horse")
            let unknown = try await Self.signIn(h, "nobody", "correct horse")
            #expect(wrong.status == 401 && unknown.status == 401)
            #expect(wrong.errorCode == unknown.errorCode && wrong.errorMessage == unknown.errorMessage)
            #expect(wrong.errorMessage?.contains("administrator can set a new one") == true)
            let empty = try await h.request(.POST, "/api/sign-in", token: nil, body: #"{"name":"alice"}"#)
            #expect(empty.status == 400 && empty.errorMessage?.contains("password") == true)

            // Signing out ends this session only; signing out with the token itself ends nothing.
            let other = try Self.session(try await Self.signIn(h, "alice", "correct horse"))
            #expect(try await h.request(.POST, "/api/sign-out", token: session).status == 204)
            #expect(try await h.request(.GET, "/api/me", token: session).status == 401)
            #expect(try await h.request(.GET, "/api/me", token: other).status == 200)
            #expect(try await h.request(.POST, "/api/sign-out", token: h.alice).status == 204)
            #expect(try await h.request(.GET, "/api/me", token: h.alice).status == 200)
            #expect(try await h.request(.POST, "/api/sign-out", token: nil).status == 401)
        }
    }

    @Test("five wrong passwords for a name hold back its sign-ins, the right one too, with Retry-After; other names sign in")
    func throttled() async throws {
        try await Harness.run { h in
            for (token, password) in [(h.alice, "alice's password"), (h.bob, "bob's password")] {
                let body = String(decoding: try JSONSerialization.data(withJSONObject: ["password": password]), as: UTF8.self)
                #expect(try await h.request(.PUT, "/api/me/password", token: token, body: body).status == 200)
            }
            for attempt in 1...5 {
                #expect(try await Self.signIn(h, "alice", "guess \(attempt)").status == 401)
            }
            let held = try await Self.signIn(h, "ALICE", "alice's password")
            #expect(held.status == 429 && held.errorCode == "too_many_attempts")
            let wait = try #require(held.headers.first(name: "Retry-After").flatMap { Int($0) })
            #expect(wait > 60 && wait <= 15 * 60)
            #expect(held.errorMessage?.contains("token link") == true)
            #expect(try await Self.signIn(h, "bob", "bob's password").status == 200)
        }
    }

    @Test("two instances on one database share a name's count of wrong passwords", arguments: TestDatabases.backends)
    func throttledAcrossInstances(database: StoreBackend) async throws {
        try await Harness.run(database: database) { h in
            let body = #"{"password":"alice's password"}"#
            #expect(try await h.request(.PUT, "/api/me/password", token: h.alice, body: body).status == 200)
            try await h.peer { other in
                for (attempt, instance) in [h, other, h, other, h].enumerated() {
                    #expect(try await Self.signIn(instance, "alice", "guess \(attempt)").status == 401)
                }
                for instance in [other, h] {
                    let held = try await Self.signIn(instance, "alice", "alice's password")
                    #expect(held.status == 429 && held.errorCode == "too_many_attempts")
                }
            }
        }
    }

    @Test("changing a password asks for the current one and signs the other browsers out; an API key cannot change it")
    func change() async throws {
        try await Harness.run { h in
            #expect(try await h.request(.PUT, "/api/me/password", token: h.bob, body: #"{"password":"first password"}"#).status == 200)
            let here = try Self.session(try await Self.signIn(h, "bob", "first password"))
            let there = try Self.session(try await Self.signIn(h, "bob", "first password"))

            let without = try await h.request(.PUT, "/api/me/password", token: here, body: #"{"password":"second password"}"#)
            #expect(without.status == 403 && without.errorCode == "wrong_password")
            let wrong = try await h.request(
                .PUT, "/api/me/password", token: here, body: #"{"current_password":"guess","password":"second password"}"#)
            #expect(wrong.status == 403 && wrong.errorCode == "wrong_password")
            let short = try await h.request(
                .PUT, "/api/me/password", token: here, body: #"{"current_password":"first password","password":"short"}"#)
            #expect(short.status == 400 && short.errorCode == "weak_password" && short.errorMessage?.contains("8 characters") == true)
            let named = try await h.request(
                .PUT, "/api/me/password", token: here, body: #"{"current_password":"first password","password":"BOB-2024!"}"#)
            #expect(named.status == 400 && named.errorCode == "weak_password" && named.errorMessage?.contains("user's name") == true)
            #expect(try await Self.signIn(h, "bob", "first password").status == 200)

            let changed = try await h.request(
                .PUT, "/api/me/password", token: here, body: #"{"current_password":"first password","password":"second password"}"#)
            #expect(changed.status == 200 && changed.json?["ended_sessions"] as? Int == 2)
            #expect(try await h.request(.GET, "/api/me", token: here).status == 200)
            #expect(try await h.request(.GET, "/api/me", token: there).status == 401)
            #expect(try await Self.signIn(h, "bob", "first password").status == 401)
            #expect(try await Self.signIn(h, "bob", "second password").status == 200)

            let key = try #require(try await h.request(.POST, "/api/keys", token: h.bob, body: #"{"label":"ci"}"#).json?["key"] as? String)
            let byKey = try await h.request(
                .PUT, "/api/me/password", token: key, body: #"{"current_password":"second password","password":"third password"}"#)
            #expect(byKey.status == 403 && byKey.errorCode == "key_cannot_change_password")
            let other = try Self.session(try await Self.signIn(h, "bob", "second password"))

            // Signed out of every other browser, without a change of password; a key may not.
            #expect(try await h.request(.DELETE, "/api/me/sessions", token: key).status == 403)
            #expect(try await h.request(.GET, "/api/me", token: other).status == 200)
            let elsewhere = try await h.request(.DELETE, "/api/me/sessions", token: here)
            #expect(elsewhere.status == 200 && elsewhere.json?["ended_sessions"] as? Int == 2)
            #expect(try await h.request(.GET, "/api/me", token: other).status == 401)
            #expect(try await h.request(.GET, "/api/me", token: here).status == 200)
        }
    }

    @Test("an administrator gives a new user a password, changes or removes it (signing the user out), and a suspended user's right password gets 403",
          arguments: TestDatabases.backends)
    func administered(database: StoreBackend) async throws {
        try await Harness.run(database: database) { h in
            let weak = try await h.request(.POST, "/api/admin/users", token: h.alice, body: #"{"name":"cy","password":"short"}"#)
            #expect(weak.status == 400 && weak.errorCode == "weak_password")
            #expect(try await h.store.user(named: "cy") == nil)
            let added = try await h.request(.POST, "/api/admin/users", token: h.alice, body: #"{"name":"cy","password":"cy's first one"}"#)
            #expect(added.status == 201 && (added.json?["user"] as? [String: Any])?["has_password"] as? Bool == true)
            let session = try Self.session(try await Self.signIn(h, "cy", "cy's first one"))

            let changed = try await h.request(.PATCH, "/api/admin/users/cy", token: h.alice, body: #"{"password":"cy's second one"}"#)
            #expect(changed.status == 200 && changed.json?["has_password"] as? Bool == true)
            #expect(try await h.request(.GET, "/api/me", token: session).status == 401)
            #expect(try await Self.signIn(h, "cy", "cy's first one").status == 401)
            #expect(try await Self.signIn(h, "cy", "cy's second one").status == 200)

            #expect(try await h.request(.PATCH, "/api/admin/users/cy", token: h.alice, body: #"{"suspended":true}"#).status == 200)
            let suspended = try await Self.signIn(h, "cy", "cy's second one")
            #expect(suspended.status == 403 && suspended.errorCode == "account_suspended")
            #expect(try await h.request(.PATCH, "/api/admin/users/cy", token: h.alice, body: #"{"suspended":false}"#).status == 200)

            let removed = try await h.request(.PATCH, "/api/admin/users/cy", token: h.alice, body: #"{"password":null}"#)
            #expect(removed.status == 200 && removed.json?["has_password"] as? Bool == false)
            #expect(try await Self.signIn(h, "cy", "cy's second one").status == 401)

            // Her own, from a session of hers: that session stays, her others end.
            #expect(try await h.request(.PATCH, "/api/admin/users/alice", token: h.alice, body: #"{"password":"alice's own"}"#).status == 200)
            let hers = try Self.session(try await Self.signIn(h, "alice", "alice's own"))
            let elsewhere = try Self.session(try await Self.signIn(h, "alice", "alice's own"))
            #expect(try await h.request(.PATCH, "/api/admin/users/alice", token: hers, body: #"{"password":"alice's next"}"#).status == 200)
            #expect(try await h.request(.GET, "/api/me", token: hers).status == 200)
            #expect(try await h.request(.GET, "/api/me", token: elsewhere).status == 401)

            let notAdmin = try await h.request(.PATCH, "/api/admin/users/alice", token: h.bob, body: #"{"password":"taken over"}"#)
            #expect(notAdmin.status == 403 && notAdmin.errorCode == "admin_only")
            #expect(try await Self.signIn(h, "alice", "alice's next").status == 200)
        }
    }
}

/// `POST /api/sign-up`: people make their own accounts when the server lets them (`serve --sign-up`).
@Suite("Making one's own account")
struct SignUpRouteTests {
    static func signUp(_ h: Harness, _ name: String, _ password: String) async throws -> Harness.Reply {
        let body = String(decoding: try JSONSerialization.data(withJSONObject: ["name": name, "password": password]), as: UTF8.self)
        return try await h.request(.POST, "/api/sign-up", token: nil, body: body)
    }

    @Test("off by default: the form is not offered and a sign-up is refused, nothing made")
    func closed() async throws {
        try await Harness.run { h in
            #expect(try await h.request(.GET, "/api/sign-up", token: nil).json?["mode"] as? String == "off")
            let refused = try await Self.signUp(h, "dan", "dan's password")
            #expect(refused.status == 403 && refused.errorCode == "sign_up_closed")
            #expect(try await h.store.user(named: "dan") == nil)
        }
    }

    @Test("with approval, a new account waits — refused with a 403 that says so — until an administrator restores it",
          arguments: TestDatabases.backends)
    func approval(database: StoreBackend) async throws {
        try await Harness.run(budgets: true, database: database, signUp: .approval) { h in
            #expect(try await h.request(.GET, "/api/sign-up", token: nil).json?["mode"] as? String == "approval")
            let weak = try await Self.signUp(h, "dan", "short")
            #expect(weak.status == 400 && weak.errorCode == "weak_password")
            let made = try await Self.signUp(h, " dan ", "dan's password")
            #expect(made.status == 202 && made.json?["pending"] as? Bool == true && made.json?["token"] == nil)
            #expect(try await Self.signUp(h, "dan", "another password").status == 409)
            let waiting = try await SignInRoutesTests.signIn(h, "dan", "dan's password")
            #expect(waiting.status == 403 && waiting.errorCode == "account_pending")
            #expect(waiting.errorMessage?.contains("approval") == true)

            let listed = AdminUserRoutesTests.users(try await h.request(.GET, "/api/admin/users", token: h.alice))["dan"]
            #expect(listed?["pending"] as? Bool == true && listed?["suspended_at"] is String && listed?["plan"] as? String == "free")
            let approved = try await h.request(.PATCH, "/api/admin/users/dan", token: h.alice, body: #"{"suspended":false}"#)
            #expect(approved.status == 200 && approved.json?["pending"] as? Bool == false && approved.json?["suspended_at"] is NSNull)
            let session = try SignInRoutesTests.session(try await SignInRoutesTests.signIn(h, "dan", "dan's password"))
            #expect(try await h.request(.GET, "/api/me", token: session).json?["admin"] as? Bool == false)
            // Suspended later, the account is refused as any suspended one, not as one waiting.
            #expect(try await h.request(.PATCH, "/api/admin/users/dan", token: h.alice, body: #"{"suspended":true}"#).status == 200)
            #expect(try await SignInRoutesTests.signIn(h, "dan", "dan's password").errorCode == "account_suspended")
        }
    }

    @Test("open: a new account chats at once on the free plan with the session it is given; many at once are held back")
    func open() async throws {
        try await Harness.run(budgets: true, signUp: .open) { h in
            let made = try await Self.signUp(h, "eve", "eve's password")
            #expect(made.status == 201 && made.headers.first(name: "Cache-Control") == "no-store")
            let session = try SignInRoutesTests.session(made)
            let me = try await h.request(.GET, "/api/me", token: session)
            #expect(me.json?["name"] as? String == "eve" && me.json?["plan"] as? String == "free" && me.json?["has_password"] as? Bool == true)
            #expect(try await h.request(.POST, "/v1/chat/completions", token: session, body: AdminUserRoutesTests.chat).status == 200)
            // Ten accounts in ten minutes per instance: the eleventh waits.
            for index in 1...9 { #expect(try await Self.signUp(h, "bulk-\(index)", "bulk password").status == 201) }
            let held = try await Self.signUp(h, "bulk-10", "bulk password")
            #expect(held.status == 429 && held.errorCode == "too_many_sign_ups" && held.headers.first(name: "Retry-After") != nil)
            #expect(try await h.store.user(named: "bulk-10") == nil)
        }
    }

    @Test("the password rule refuses the name, the service or 'password' with digits and symbols, one character repeated and runs, and nothing else",
          arguments: [
              ("short", "8 characters"), ("        ", "only spaces"), ("ann20244", "user's name"), ("Password1", "\"password\""),
              ("sluice!!", "\"sluice\""), ("AnnAnn!!", "user's name"), ("first password", nil), ("bob's password", nil), ("zzzzzzzzzz", "over and over"), ("12345678", "run"), ("hgfedcba", "run"),
              ("ann's long passphrase", nil), ("my password is long", nil), ("correct horse battery", nil), ("12345679", nil),
          ] as [(String, String?)])
    func rule(password: String, refusal: String?) {
        let problem = PasswordRule.problem(with: password, for: "Ann")
        if let refusal { #expect(problem?.contains(refusal) == true) } else { #expect(problem == nil) }
    }
}
