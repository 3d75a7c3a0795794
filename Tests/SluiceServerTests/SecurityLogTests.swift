import Foundation
import SluiceCore
import SluiceStore
import SluiceTestSupport
import Testing

@testable import SluiceServer

/// `GET /api/me/security-log` and what writes it: sign-ins and refused ones, password and two-step changes.
@Suite("Security log")
struct SecurityLogTests {
    static func log(_ h: Harness, _ token: String, _ path: String = "/api/me/security-log") async throws -> [[String: Any]] {
        try #require(try await h.request(.GET, path, token: token).json?["events"] as? [[String: Any]])
    }

    static func kinds(_ events: [[String: Any]]) -> [String] { events.compactMap { $0["kind"] as? String } }

    @Test("sign-ins, refused ones and changes are written with where they came from, the newest first",
          arguments: TestDatabases.backends)
    func written(database: StoreBackend) async throws {
        try await Harness.run(database: database) { h in
            #expect(try await Self.log(h, h.bob).isEmpty)
            #expect(try await h.request(.PUT, "/api/me/password", token: h.bob, body: #"{"password":"bob's password"}"#).status == 200)
            let agent = ["User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"]
            #expect(try await SignedInBrowsersTests.signIn(h, "bob", "not it", headers: agent).status == 401)
            let signedIn = try await SignedInBrowsersTests.signIn(h, "bob", "bob's password", headers: agent)
            #expect(signedIn.status == 200 && signedIn.json?["refused_since_last_sign_in"] as? Int == 1)
            #expect(try await SignedInBrowsersTests.signIn(h, "bob", "bob's password").json?["refused_since_last_sign_in"] == nil)
            // A name no user has is in no one's log.
            #expect(try await SignedInBrowsersTests.signIn(h, "nobody", "bob's password").status == 401)

            var events = try await Self.log(h, h.bob)
            // The second sign-in, just to see that nothing was refused since the first, is left out of the count below.
            events.removeFirst()
            #expect(Self.kinds(events) == ["signed_in", "sign_in_refused", "password_changed"])
            #expect(events[1]["detail"] as? String == "wrong password" && events[0]["detail"] == nil)
            #expect(events[0]["user_agent"] as? String == agent["User-Agent"] && events[0]["address"] as? String == "127.0.0.1")
            #expect((events[0]["at"] as? String)?.hasPrefix("20") == true && events[0]["id"] as? String != events[1]["id"] as? String)

            // Two-step verification: turned on, a wrong code, a recovery code.
            let (_, _, recovery) = try await TwoStepRoutesTests.turnOn(h, h.bob, password: "bob's password", hasPassword: true)
            #expect(try await TwoStepRoutesTests.signIn(h, "bob", "bob's password", code: "000000").errorCode == "wrong_code")
            #expect(try await TwoStepRoutesTests.signIn(h, "bob", "bob's password", code: recovery[0]).status == 200)
            events = try await Self.log(h, h.bob)
            #expect(Self.kinds(events).prefix(4) == ["signed_in", "sign_in_refused", "two_step_on", "signed_in"])
            #expect(events[0]["detail"] as? String == "with a recovery code")
            #expect(events[1]["detail"] as? String == "right password, wrong code")

            let limited = try await Self.log(h, h.bob, "/api/me/security-log?limit=2")
            #expect(Self.kinds(limited) == ["signed_in", "sign_in_refused"])
            #expect(try await h.request(.GET, "/api/me/security-log?limit=0", token: h.bob).status == 400)
        }
    }

    @Test("an administrator reads a user's log and their own changes to the user are in it, by name; keys and other users may not read it")
    func administered() async throws {
        try await Harness.run { h in
            _ = try await TwoStepRoutesTests.turnOn(h, h.bob, password: "bob's password")
            #expect(try await h.request(.DELETE, "/api/admin/users/bob/two-step", token: h.alice).status == 204)
            #expect(try await h.request(.DELETE, "/api/admin/users/bob/sessions", token: h.alice).status == 200)
            #expect(try await h.request(.PATCH, "/api/admin/users/bob", token: h.alice, body: #"{"password":null}"#).status == 200)
            let events = try await Self.log(h, h.alice, "/api/admin/users/bob/security-log")
            #expect(Self.kinds(events).prefix(3) == ["password_removed", "signed_out_elsewhere", "two_step_off"])
            #expect(events[0]["detail"] as? String == "by administrator alice")
            #expect(events[1]["detail"] as? String == "by administrator alice; 0 browsers")
            let notAdmin = try await h.request(.GET, "/api/admin/users/alice/security-log", token: h.bob)
            #expect(notAdmin.status == 403)
            #expect(try await h.request(.GET, "/api/admin/users/nobody/security-log", token: h.alice).status == 404)
            let key = try #require(try await h.request(.POST, "/api/keys", token: h.bob, body: #"{"label":"ci"}"#).json?["key"] as? String)
            let byKey = try await h.request(.GET, "/api/me/security-log", token: key)
            #expect(byKey.status == 403 && byKey.errorCode == "key_cannot_see_security_log")
        }
    }

    @Test("an administrator lists a user's signed-in browsers and signs one out, which the user's log says; no one else may")
    func userBrowsers() async throws {
        try await Harness.run { h in
            #expect(try await h.request(.PUT, "/api/me/password", token: h.bob, body: #"{"password":"bob's password"}"#).status == 200)
            let laptop = try SignInRoutesTests.session(try await SignedInBrowsersTests.signIn(
                h, "bob", "bob's password", headers: ["User-Agent": SignedInBrowsersTests.firefox]))
            let phone = try SignInRoutesTests.session(try await SignedInBrowsersTests.signIn(h, "bob", "bob's password"))
            let listed = try #require(try await h.request(.GET, "/api/admin/users/bob/sessions", token: h.alice).json?["sessions"] as? [[String: Any]])
            #expect(listed.count == 2 && listed.allSatisfy { $0["current"] as? Bool == false })
            let laptopEntry = try #require(listed.first { $0["user_agent"] as? String == SignedInBrowsersTests.firefox })
            let id = try #require(laptopEntry["id"] as? String)
            #expect(try await h.request(.GET, "/api/admin/users/alice/sessions", token: h.bob).status == 403)
            #expect(try await h.request(.DELETE, "/api/admin/users/alice/sessions/\(id)", token: h.bob).status == 403)
            // The id is Bob's: it does not end a session under another user's name.
            #expect(try await h.request(.DELETE, "/api/admin/users/alice/sessions/\(id)", token: h.alice).errorCode == "session_not_found")
            #expect(try await h.request(.DELETE, "/api/admin/users/bob/sessions/\(id)", token: h.alice).status == 204)
            #expect(try await h.request(.GET, "/api/me", token: laptop).status == 401)
            #expect(try await h.request(.GET, "/api/me", token: phone).status == 200)
            let events = try await Self.log(h, h.bob)
            #expect(events.first?["kind"] as? String == "signed_out_elsewhere")
            #expect(events.first?["detail"] as? String == "by administrator alice; 1 browser")
        }
    }
}
