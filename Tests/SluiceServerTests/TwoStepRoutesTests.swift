import Foundation
import SluiceCore
import SluiceStore
import SluiceTestSupport
import Testing

@testable import SluiceServer

/// `/api/me/two-step` and the sign-in's second step: an authenticator's code or a recovery code after the password.
@Suite("Two-step verification")
struct TwoStepRoutesTests {
    static func signIn(_ h: Harness, _ name: String, _ password: String, code: String? = nil) async throws -> Harness.Reply {
        var fields = ["name": name, "password": password]
        fields["code"] = code
        let body = String(decoding: try JSONSerialization.data(withJSONObject: fields), as: UTF8.self)
        return try await h.request(.POST, "/api/sign-in", token: nil, body: body)
    }

    static func body(_ fields: [String: String]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: fields), as: UTF8.self)
    }

    /// The authenticator's code for `secret` at time step `step`.
    static func code(_ secret: String, step: Int64) throws -> String {
        TimeBasedCode(secret: try #require(Base32.decode(secret))).code(step: step)
    }

    /// Gives `token`'s user `password` (unless they have it) and turns two-step verification on: the secret, the step its first code was
    /// for, and the recovery codes.
    /// `hasPassword`: the user has that password already (else it is set first).
    static func turnOn(
        _ h: Harness, _ token: String, password: String, hasPassword: Bool = false
    ) async throws -> (secret: String, step: Int64, recovery: [String]) {
        if !hasPassword {
            #expect(try await h.request(.PUT, "/api/me/password", token: token, body: try body(["password": password])).status == 200)
        }
        let begun = try await h.request(.POST, "/api/me/two-step", token: token, body: try body(["password": password]))
        #expect(begun.status == 200 && begun.headers.first(name: "Cache-Control") == "no-store")
        let secret = try #require(begun.json?["secret"] as? String)
        let step = TimeBasedCode.step(at: Date())
        let confirmed = try await h.request(
            .POST, "/api/me/two-step/confirm", token: token, body: try body(["code": try code(secret, step: step)]))
        #expect(confirmed.status == 200)
        return (secret, step, try #require(confirmed.json?["recovery_codes"] as? [String]))
    }

    @Test("set up with the password and a first code, the sign-in asks for a code, takes each once, and takes recovery codes once",
          arguments: TestDatabases.backends)
    func signIn(database: StoreBackend) async throws {
        try await Harness.run(database: database) { h in
            #expect(try await h.request(.PUT, "/api/me/password", token: h.alice, body: #"{"password":"correct horse"}"#).status == 200)
            let off = try await h.request(.GET, "/api/me/two-step", token: h.alice)
            #expect(off.json?["on"] as? Bool == false && off.json?["waiting"] as? Bool == false)
            let wrongPassword = try await h.request(.POST, "/api/me/two-step", token: h.alice, body: #"{"password":"battery"}"#)
            #expect(wrongPassword.status == 403 && wrongPassword.errorCode == "wrong_password")

            let begun = try await h.request(.POST, "/api/me/two-step", token: h.alice, body: #"{"password":"correct horse"}"#)
            let secret = try #require(begun.json?["secret"] as? String)
            #expect(begun.json?["uri"] as? String == "otpauth://totp/Sluice%3Aalice?secret=\(secret)&issuer=Sluice&algorithm=SHA1&digits=6&period=30")
            #expect(try await h.request(.GET, "/api/me/two-step", token: h.alice).json?["waiting"] as? Bool == true)
            // Still off while it waits: the password alone signs in.
            #expect(try await Self.signIn(h, "alice", "correct horse").status == 200)
            let step = TimeBasedCode.step(at: Date())
            let wrongCode = try await h.request(
                .POST, "/api/me/two-step/confirm", token: h.alice, body: try Self.body(["code": try Self.code(secret, step: step + 5)]))
            #expect(wrongCode.status == 400 && wrongCode.errorCode == "wrong_code")
            let confirmed = try await h.request(
                .POST, "/api/me/two-step/confirm", token: h.alice, body: try Self.body(["code": try Self.code(secret, step: step)]))
            let recovery = try #require(confirmed.json?["recovery_codes"] as? [String])
            #expect(recovery.count == 10 && confirmed.headers.first(name: "Cache-Control") == "no-store")
            let on = try await h.request(.GET, "/api/me/two-step", token: h.alice)
            #expect(on.json?["on"] as? Bool == true && on.json?["recovery_codes_left"] as? Int == 10 && on.json?["secret"] == nil)
            let again = try await h.request(.POST, "/api/me/two-step", token: h.alice, body: #"{"password":"correct horse"}"#)
            #expect(again.status == 409 && again.errorCode == "two_step_on")

            // The password alone is not enough now; the code the set-up took is not taken again; the next one is, once.
            let asked = try await Self.signIn(h, "alice", "correct horse")
            #expect(asked.status == 401 && asked.errorCode == "two_step_required" && asked.json?["token"] == nil)
            let used = try await Self.signIn(h, "alice", "correct horse", code: try Self.code(secret, step: step))
            #expect(used.status == 401 && used.errorCode == "code_used")
            let next = try Self.code(secret, step: step + 1)
            let signedIn = try await Self.signIn(h, "alice", "correct horse", code: next)
            #expect(signedIn.status == 200 && signedIn.json?["recovery_codes_left"] == nil)
            #expect(try await h.request(.GET, "/api/me", token: try SignInRoutesTests.session(signedIn)).status == 200)
            #expect(try await Self.signIn(h, "alice", "correct horse", code: next).errorCode == "code_used")
            // A right code after a wrong password is refused as any wrong password is.
            #expect(try await Self.signIn(h, "alice", "battery", code: try Self.code(secret, step: step + 1)).errorCode == "invalid_credentials")

            // A recovery code, typed loosely, signs in once and says how many are left.
            let loose = recovery[3].uppercased().replacingOccurrences(of: "-", with: " ")
            let recovered = try await Self.signIn(h, "alice", "correct horse", code: loose)
            #expect(recovered.status == 200 && recovered.json?["recovery_codes_left"] as? Int == 9)
            #expect(try await Self.signIn(h, "alice", "correct horse", code: recovery[3]).errorCode == "wrong_code")
            #expect(try await h.request(.GET, "/api/me/two-step", token: h.alice).json?["recovery_codes_left"] as? Int == 9)
        }
    }

    @Test("wrong codes count as wrong passwords; a right password without a code does not start the count again")
    func throttled() async throws {
        try await Harness.run { h in
            let (secret, step, _) = try await Self.turnOn(h, h.alice, password: "correct horse")
            for attempt in 1...4 {
                let wrong = try await Self.signIn(h, "alice", "correct horse", code: String(format: "%06d", attempt))
                #expect(wrong.status == 401 && wrong.errorCode == "wrong_code")
            }
            #expect(try await Self.signIn(h, "alice", "correct horse").errorCode == "two_step_required")
            #expect(try await Self.signIn(h, "alice", "correct horse", code: "000000").errorCode == "wrong_code")
            let held = try await Self.signIn(h, "alice", "correct horse", code: try Self.code(secret, step: step + 1))
            #expect(held.status == 429 && held.errorCode == "too_many_attempts")
        }
    }

    @Test("renewing recovery codes and turning two-step off ask for the password; keys and users without a password are refused")
    func manage() async throws {
        try await Harness.run { h in
            let noPassword = try await h.request(.POST, "/api/me/two-step", token: h.bob, body: "")
            #expect(noPassword.status == 409 && noPassword.errorCode == "no_password")
            let key = try #require(try await h.request(.POST, "/api/keys", token: h.bob, body: #"{"label":"ci"}"#).json?["key"] as? String)
            let byKey = try await h.request(.GET, "/api/me/two-step", token: key)
            #expect(byKey.status == 403 && byKey.errorCode == "key_cannot_change_two_step")

            let (_, _, old) = try await Self.turnOn(h, h.alice, password: "correct horse")
            let renewWrong = try await h.request(.POST, "/api/me/two-step/recovery-codes", token: h.alice, body: #"{"password":"x"}"#)
            #expect(renewWrong.status == 403)
            let renewed = try #require(try await h.request(
                .POST, "/api/me/two-step/recovery-codes", token: h.alice, body: #"{"password":"correct horse"}"#
            ).json?["recovery_codes"] as? [String])
            #expect(renewed.count == 10 && Set(renewed).isDisjoint(with: old))
            #expect(try await Self.signIn(h, "alice", "correct horse", code: old[0]).errorCode == "wrong_code")
            #expect(try await Self.signIn(h, "alice", "correct horse", code: renewed[0]).status == 200)

            #expect(try await h.request(.DELETE, "/api/me/two-step", token: h.alice, body: #"{"password":"x"}"#).status == 403)
            #expect(try await h.request(.DELETE, "/api/me/two-step", token: h.alice, body: #"{"password":"correct horse"}"#).status == 204)
            #expect(try await Self.signIn(h, "alice", "correct horse").status == 200)
            let offAgain = try await h.request(.DELETE, "/api/me/two-step", token: h.alice, body: #"{"password":"correct horse"}"#)
            #expect(offAgain.status == 409 && offAgain.errorCode == "two_step_off")
        }
    }

    @Test("an administrator sees who has two-step on and turns it off for a user who lost their phone; no one else may")
    func administered() async throws {
        try await Harness.run { h in
            _ = try await Self.turnOn(h, h.bob, password: "bob's password")
            let listed = try #require(try await h.request(.GET, "/api/admin/users", token: h.alice).json?["users"] as? [[String: Any]])
            #expect(listed.first { $0["name"] as? String == "bob" }?["two_step"] as? Bool == true)
            #expect(listed.first { $0["name"] as? String == "alice" }?["two_step"] as? Bool == false)
            #expect(try await h.request(.DELETE, "/api/admin/users/alice/two-step", token: h.bob).status == 403)
            #expect(try await Self.signIn(h, "bob", "bob's password").errorCode == "two_step_required")
            #expect(try await h.request(.DELETE, "/api/admin/users/bob/two-step", token: h.alice).status == 204)
            #expect(try await Self.signIn(h, "bob", "bob's password").status == 200)
            let again = try await h.request(.DELETE, "/api/admin/users/bob/two-step", token: h.alice)
            #expect(again.status == 409 && again.errorCode == "two_step_off")
        }
    }
}
