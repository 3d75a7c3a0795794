import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import SluiceCore
import SluiceOIDC
@testable import SluiceServer
import SluiceSimulator
import SluiceStore
import SluiceTestSupport
import Testing

/// Signing in with an OpenID Connect provider: the simulated one, a real HTTP server on loopback that signs RS256 ID
/// tokens, and the browser's trip played one redirect at a time.
@Suite("Single sign-on")
struct SingleSignOnTests {
    /// Follows no redirect: each hop of the trip is looked at.
    static let browser: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    /// Where the provider sends the browser back; the trip sends it on to the test's server, whatever its port.
    static let redirectURI = "http://sluice.test/api/sign-in/oidc/callback"

    /// Runs `body` with a simulated provider and a Sluice that signs in with it.
    static func withProvider(
        newAccounts: SignUpMode = .open, database: StoreBackend = .sqlite, allowedDomains: [String] = [],
        keyRereadInterval: Duration = .seconds(5), adminGroup: String? = nil, teamsFromGroups: Bool = false, passwordSignIn: Bool = true,
        _ body: @escaping @Sendable (Harness, IdentityProviderSimulator) async throws -> Void
    ) async throws {
        let provider = try IdentityProviderSimulator()
        try await provider.application(port: 0).test(.live) { client in
            let issuer = "http://127.0.0.1:\(try #require(client.port))"
            let settings = OIDCSettings(
                issuer: issuer, clientID: provider.clientID, clientSecret: provider.clientSecret, redirectURI: redirectURI,
                displayName: "Acme SSO")
            let singleSignOn = SingleSignOn(
                client: OIDCClient(settings: settings, keyRereadInterval: keyRereadInterval), newAccounts: newAccounts, appURL: "/",
                allowedDomains: allowedDomains, adminGroup: adminGroup, teamsFromGroups: teamsFromGroups)
            try await Harness.run(database: database, singleSignOn: singleSignOn, passwordSignIn: passwordSignIn) { harness in
                try await body(harness, provider)
            }
        }
    }

    /// One hop: the status, `Location` and `Set-Cookie` of a GET.
    struct Hop {
        let status: UInt
        let location: String
        let setCookie: String?
    }

    static func get(_ url: String, cookie: String? = nil) async throws -> Hop {
        var request = HTTPClientRequest(url: url)
        if let cookie { request.headers.add(name: "Cookie", value: cookie) }
        let response = try await browser.execute(request, timeout: Harness.deadline)
        _ = try await response.body.collect(upTo: 1 << 20)
        return Hop(status: response.status.code, location: response.headers.first(name: "Location") ?? "", setCookie: response.headers.first(name: "Set-Cookie"))
    }

    /// The whole trip: Sluice's start, the provider's authorization, Sluice's callback (with the cookie the start set,
    /// or `cookieFrom`'s). Returns where the browser lands at last, and the first two hops.
    static func trip(
        _ harness: Harness, hint: String? = nil, cookieFrom other: String? = nil
    ) async throws -> (landing: String, start: Hop, back: Hop) {
        let start = try await get("http://127.0.0.1:\(harness.port)/api/sign-in/oidc/start" + (hint.map { "?login_hint=\($0)" } ?? ""))
        #expect(start.status == 302)
        let cookie = try #require(other ?? start.setCookie?.split(separator: ";").first.map(String.init))
        let back = try await get(start.location)
        #expect(back.status == 302 && back.location.hasPrefix(redirectURI + "?"))
        let callback = "http://127.0.0.1:\(harness.port)" + back.location.dropFirst("http://sluice.test".count)
        let landing = try await get(callback, cookie: cookie)
        #expect(landing.status == 302)
        // The attempt's cookie is dropped whatever happened.
        #expect(landing.setCookie?.contains("Max-Age=0") == true)
        return (landing.location, start, back)
    }

    static func token(from landing: String) -> String? {
        landing.hasPrefix("/#token=") ? String(landing.dropFirst("/#token=".count)) : nil
    }

    @Test("a person's first sign-in makes their account and a session; later ones find the same account",
          arguments: TestDatabases.backends)
    func firstAndLaterSignIns(_ backend: StoreBackend) async throws {
        try await Self.withProvider(database: backend) { harness, provider in
            let offer = try await harness.request(.GET, "/api/sign-in/oidc", token: nil)
            #expect(offer.json?["enabled"] as? Bool == true && offer.json?["name"] as? String == "Acme SSO")
            let usersBefore = try await harness.store.users().count

            let first = try await Self.trip(harness, hint: "dana")
            // The provider was asked for an OpenID Connect sign-in with PKCE, and the attempt rides in a cookie that
            // scripts cannot read, sent back only to the callback.
            let asked = try #require(URLComponents(string: first.start.location)?.queryItems)
            let query = Dictionary(asked.map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { one, _ in one })
            #expect(query["code_challenge_method"] == "S256" && query["scope"] == "openid email profile")
            #expect(query["login_hint"] == "dana" && query["redirect_uri"] == Self.redirectURI && query["client_id"] == "sluice")
            let setCookie = try #require(first.start.setCookie)
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Lax") && setCookie.contains("Path=/api/sign-in/oidc"))
            #expect(!setCookie.contains("Secure"), "a plain-http redirect URI cannot carry a Secure cookie")

            let token = try #require(Self.token(from: first.landing))
            let me = try await harness.request(.GET, "/api/me", token: token)
            #expect(me.status == 200 && me.json?["name"] as? String == "dana")
            let dana = try #require(try await harness.store.user(named: "dana"))
            #expect(try await harness.store.users().count == usersBefore + 1)
            #expect(try await harness.store.sessions(userID: dana.id).count == 1)
            let events = try await harness.store.securityEvents(userID: dana.id, limit: 10)
            #expect(events.map(\.kind) == [.signedIn] && events.first?.detail == "with Acme SSO")

            // Again: the same account, a second session; the provider handed out one ID token per trip.
            let second = try #require(Self.token(from: try await Self.trip(harness, hint: "dana").landing))
            #expect(second != token)
            #expect(try await harness.request(.GET, "/api/me", token: second).json?["name"] as? String == "dana")
            #expect(try await harness.store.users().count == usersBefore + 1)
            #expect(try await harness.store.sessions(userID: dana.id).count == 2)
            #expect(provider.tokensIssued == 2)
            #expect(try await harness.store.identityIssuers(userID: dana.id).count == 1)
            // The administrator's list says who signs in through the provider.
            let listed = try await harness.request(.GET, "/api/admin/users", token: harness.alice).json?["users"] as? [[String: Any]] ?? []
            #expect(listed.first { $0["name"] as? String == "dana" }?["single_sign_on"] as? Bool == true)
            #expect(listed.first { $0["name"] as? String == "alice" }?["single_sign_on"] as? Bool == false)
        }
    }

    @Test("a name another user has is not theirs: the new account takes the next free one")
    func nameTaken() async throws {
        try await Self.withProvider { harness, _ in
            let alice = try #require(try await harness.store.user(named: "alice"))
            let token = try #require(Self.token(from: try await Self.trip(harness, hint: "alice").landing))
            let me = try await harness.request(.GET, "/api/me", token: token)
            #expect(me.json?["name"] as? String == "alice-2")
            #expect(try await harness.store.user(named: "alice-2")?.id != alice.id)
            // Alice's own conversations stay hers alone.
            let conversation = try await harness.request(.POST, "/api/conversations", token: harness.alice, body: "{}")
            let id = try #require(conversation.json?["id"] as? String)
            #expect(try await harness.request(.GET, "/api/conversations/\(id)", token: token).status == 403)
        }
    }

    @Test("an answer that fails a check signs no one in: a declined sign-in, a refused code, a wrong nonce, audience, expiry or key")
    func refusedAnswers() async throws {
        try await Self.withProvider { harness, provider in
            let usersBefore = try await harness.store.users().count
            let expected: [(IdentityProviderFault, String)] = [
                (.deny, "sso_cancelled"), (.refuseCode, "sso_refused"), (.wrongNonce, "sso_refused"),
                (.wrongAudience, "sso_refused"), (.expired, "sso_refused"), (.foreignKey, "sso_refused"),
            ]
            for (fault, code) in expected {
                provider.fault = fault
                let landing = try await Self.trip(harness, hint: "eve").landing
                #expect(landing == "/#sign-in-error=\(code)", "\(fault)")
            }
            #expect(try await harness.store.user(named: "eve") == nil)
            #expect(try await harness.store.users().count == usersBefore)
            // The same trip with the provider behaving signs in: the checks, not the trip, refused the others.
            provider.fault = .none
            #expect(Self.token(from: try await Self.trip(harness, hint: "eve").landing) != nil)
        }
    }

    /// A signed-in user's trip to connect their account at the provider: Sluice's request (with `token`), the
    /// provider, the callback with the cookie the request set — or, with `editCookie`, a cookie the browser changed.
    static func connectTrip(
        _ harness: Harness, token: String, hint: String, editCookie: (@Sendable (String) -> String)? = nil
    ) async throws -> String {
        let asked = try await harness.request(.POST, "/api/me/sign-in-provider", token: token)
        #expect(asked.status == 200)
        let url = try #require(asked.json?["url"] as? String) + "&login_hint=\(hint)"
        var cookie = try #require(asked.headers.first(name: "Set-Cookie")?.split(separator: ";").first.map(String.init))
        if let editCookie { cookie = editCookie(cookie) }
        let back = try await get(url)
        let callback = "http://127.0.0.1:\(harness.port)" + back.location.dropFirst("http://sluice.test".count)
        return try await get(callback, cookie: cookie).location
    }

    @Test("a signed-in user connects their account at the provider, which then signs them in; disconnecting needs a password")
    func connectAndDisconnect() async throws {
        try await Self.withProvider { harness, _ in
            let state = try await harness.request(.GET, "/api/me/sign-in-provider", token: harness.alice)
            #expect(state.json?["enabled"] as? Bool == true && state.json?["connected"] as? Bool == false)
            #expect(try await Self.connectTrip(harness, token: harness.alice, hint: "a.smith") == "/#sso=connected")
            let alice = try #require(try await harness.store.user(named: "alice"))
            #expect(try await harness.request(.GET, "/api/me/sign-in-provider", token: harness.alice).json?["connected"] as? Bool == true)
            #expect(try await harness.store.securityEvents(userID: alice.id, limit: 5).map(\.kind) == [.providerConnected])

            // The provider's a.smith now signs in as alice: no new account.
            let usersBefore = try await harness.store.users().count
            let token = try #require(Self.token(from: try await Self.trip(harness, hint: "a.smith").landing))
            #expect(try await harness.request(.GET, "/api/me", token: token).json?["name"] as? String == "alice")
            #expect(try await harness.store.users().count == usersBefore)

            // Without a password nothing else would sign her in; with one, she may disconnect.
            let refused = try await harness.request(.DELETE, "/api/me/sign-in-provider", token: harness.alice)
            #expect(refused.status == 409 && refused.errorCode == "password_needed")
            let password = try await harness.request(
                .PUT, "/api/me/password", token: harness.alice, body: #"{"password": "a long garden path"}"#)
            #expect(password.status == 200)
            #expect(try await harness.request(.DELETE, "/api/me/sign-in-provider", token: harness.alice).status == 204)
            #expect(try await harness.request(.GET, "/api/me/sign-in-provider", token: harness.alice).json?["connected"] as? Bool == false)
            let events = try await harness.store.securityEvents(userID: alice.id, limit: 5).map(\.kind)
            #expect(events.first == .providerDisconnected)
            // a.smith is a stranger again: their next sign-in makes an account of their own.
            let stranger = try #require(Self.token(from: try await Self.trip(harness, hint: "a.smith").landing))
            #expect(try await harness.request(.GET, "/api/me", token: stranger).json?["name"] as? String == "a.smith")
        }
    }

    @Test("a person tied to one user cannot be connected to another, and a cookie changed to name another user ties no one")
    func connectRefusals() async throws {
        try await Self.withProvider { harness, provider in
            #expect(Self.token(from: try await Self.trip(harness, hint: "dana").landing) != nil)
            #expect(try await Self.connectTrip(harness, token: harness.bob, hint: "dana") == "/#sign-in-error=sso_taken")
            let bob = try #require(try await harness.store.user(named: "bob"))
            #expect(try await harness.store.identityIssuers(userID: bob.id).isEmpty)

            // Bob's own request, his cookie's user changed to Alice's: the record under its state is Bob's, so no one
            // is tied — and the provider's code is never traded.
            let alice = try #require(try await harness.store.user(named: "alice"))
            let issued = provider.tokensIssued
            let forged = try await Self.connectTrip(harness, token: harness.bob, hint: "mallory") { cookie in
                var parts = cookie.split(separator: ".").map(String.init)
                parts[parts.count - 1] = alice.id
                return parts.joined(separator: ".")
            }
            #expect(forged == "/#sign-in-error=sso_restart")
            #expect(try await harness.store.identityIssuers(userID: alice.id).isEmpty)
            #expect(provider.tokensIssued == issued)
        }
    }

    @Test("the provider's groups decide who is an administrator and which team each user is in, at every sign-in")
    func groups() async throws {
        try await Self.withProvider(adminGroup: "sluice-admins", teamsFromGroups: true) {
            (harness: Harness, provider: IdentityProviderSimulator) async throws in
            let research = try await harness.store.createTeam(name: "research", dailyDollarLimit: nil, monthlyDollarLimit: nil)
            _ = try await harness.store.createTeam(name: "sales", dailyDollarLimit: nil, monthlyDollarLimit: nil)
            @Sendable func signIn(_ groups: [String]) async throws -> User {
                provider.person = SimulatedPerson(subject: "sub-gus", preferredUsername: "gus", groups: groups)
                #expect(Self.token(from: try await Self.trip(harness).landing) != nil)
                return try #require(try await harness.store.user(named: "gus"))
            }
            // Groups that name no team are passed over; the first that does is the team.
            var gus = try await signIn(["staff", "research", "sluice-admins", "sales"])
            #expect(gus.isAdmin)
            #expect(try await harness.store.teamName(userID: gus.id) == "research")
            gus = try await signIn(["sales"])
            #expect(!gus.isAdmin)
            #expect(try await harness.store.teamName(userID: gus.id) == "sales")
            gus = try await signIn([])
            #expect(try await harness.store.teamName(userID: gus.id) == nil)
            // A team still among the groups is kept, though another comes first.
            gus = try await signIn(["research"])
            gus = try await signIn(["sales", "research"])
            #expect(try await harness.store.teamName(userID: gus.id) == research.name)
            // Each change is in the audit log, made by the single sign-on.
            let entries = try await harness.store.auditEntries(AuditQuery(name: "gus"))
            let byProvider = entries.filter { $0.action == .userChanged && $0.actor.name == "single sign-on (Acme SSO)" }
            #expect(byProvider.count == 4)
            #expect(byProvider.last?.changes.contains(AuditChange("admin", from: "no", to: "yes")) == true)
        }
        // Without the settings, groups change nothing.
        try await Self.withProvider { (harness: Harness, provider: IdentityProviderSimulator) async throws in
            _ = try await harness.store.createTeam(name: "research", dailyDollarLimit: nil, monthlyDollarLimit: nil)
            provider.person = SimulatedPerson(subject: "sub-gus", preferredUsername: "gus", groups: ["research", "sluice-admins"])
            #expect(Self.token(from: try await Self.trip(harness).landing) != nil)
            let gus = try #require(try await harness.store.user(named: "gus"))
            #expect(!gus.isAdmin)
            #expect(try await harness.store.teamName(userID: gus.id) == nil)
        }
    }

    @Test("with password sign-in off, only the provider (and tokens) sign in, and a connected account cannot be disconnected")
    func passwordSignInOff() async throws {
        try await Self.withProvider(passwordSignIn: false) { (harness: Harness, _: IdentityProviderSimulator) async throws in
            let offer = try await harness.request(.GET, "/api/sign-in/oidc", token: nil)
            #expect(offer.json?["password_sign_in"] as? Bool == false)
            // Alice has a password, right, and it is refused all the same — before any bcrypt work or count.
            #expect(try await harness.request(.PUT, "/api/me/password", token: harness.alice, body: #"{"password": "a long garden path"}"#).status == 200)
            let refused = try await harness.request(.POST, "/api/sign-in", token: nil, body: #"{"name": "alice", "password": "a long garden path"}"#)
            #expect(refused.status == 403 && refused.errorCode == "password_sign_in_off")
            #expect(try await Self.connectTrip(harness, token: harness.alice, hint: "a.smith") == "/#sso=connected")
            let state = try await harness.request(.GET, "/api/me/sign-in-provider", token: harness.alice)
            #expect(state.json?["connected"] as? Bool == true && state.json?["password_sign_in"] as? Bool == false)
            let disconnect = try await harness.request(.DELETE, "/api/me/sign-in-provider", token: harness.alice)
            #expect(disconnect.status == 409 && disconnect.errorCode == "password_sign_in_off")
            let token = try #require(Self.token(from: try await Self.trip(harness, hint: "a.smith").landing))
            #expect(try await harness.request(.GET, "/api/me", token: token).json?["name"] as? String == "alice")
        }
        try await Self.withProvider { (harness: Harness, _: IdentityProviderSimulator) async throws in
            #expect(try await harness.request(.GET, "/api/sign-in/oidc", token: nil).json?["password_sign_in"] as? Bool == true)
        }
    }

    @Test("a key the provider rotated in is read when a token names it; a known key's id on a wrong signature is not enough")
    func keyRotation() async throws {
        try await Self.withProvider(keyRereadInterval: .zero) { harness, provider in
            #expect(Self.token(from: try await Self.trip(harness, hint: "rhea").landing) != nil)
            try provider.rotateKey()
            // Signed with the new key, which Sluice has not read yet: it reads the keys again, and the token passes.
            #expect(Self.token(from: try await Self.trip(harness, hint: "rhea").landing) != nil)
            // The new key's id on another key's signature: refused, though the keys were just read again.
            provider.fault = .foreignKey
            #expect(try await Self.trip(harness, hint: "rhea").landing == "/#sign-in-error=sso_refused")
        }
        // Keys read moments ago are not read again for every unknown id: a rotation waits out the interval.
        try await Self.withProvider(keyRereadInterval: .seconds(3600)) { harness, provider in
            #expect(Self.token(from: try await Self.trip(harness, hint: "rhea").landing) != nil)
            try provider.rotateKey()
            #expect(try await Self.trip(harness, hint: "rhea").landing == "/#sign-in-error=sso_refused")
        }
    }

    @Test("allowed domains let in only verified addresses at them")
    func allowedDomains() async throws {
        try await Self.withProvider(allowedDomains: ["Example.TEST"]) { (harness: Harness, provider: IdentityProviderSimulator) async throws in
            // `hinted` people have verified addresses at example.test.
            #expect(Self.token(from: try await Self.trip(harness, hint: "vera").landing) != nil)
            provider.person = SimulatedPerson(subject: "sub-out", email: "out@elsewhere.test", preferredUsername: "out")
            #expect(try await Self.trip(harness).landing == "/#sign-in-error=sso_domain")
            provider.person = SimulatedPerson(
                subject: "sub-unverified", email: "claims@example.test", emailVerified: false, preferredUsername: "claims")
            #expect(try await Self.trip(harness).landing == "/#sign-in-error=sso_domain")
            #expect(try await harness.store.user(named: "out") == nil)
            #expect(try await harness.store.user(named: "claims") == nil)
        }
    }

    @Test("a provider's answer that this browser did not ask for is refused before its code is traded (login CSRF)")
    func answerWithoutItsAttempt() async throws {
        try await Self.withProvider { harness, provider in
            // Another browser's attempt: its cookie does not match this answer's state.
            let other = try await Self.get("http://127.0.0.1:\(harness.port)/api/sign-in/oidc/start")
            let otherCookie = try #require(other.setCookie?.split(separator: ";").first.map(String.init))
            let trip = try await Self.trip(harness, hint: "mallory", cookieFrom: otherCookie)
            #expect(trip.landing == "/#sign-in-error=sso_restart")
            // No cookie at all: the same.
            let callback = "http://127.0.0.1:\(harness.port)" + trip.back.location.dropFirst("http://sluice.test".count)
            #expect(try await Self.get(callback).location == "/#sign-in-error=sso_restart")
            #expect(provider.tokensIssued == 0)
            #expect(try await harness.store.user(named: "mallory") == nil)
        }
    }

    @Test("with approval, a new account waits for an administrator; a suspended one is refused until restored")
    func approvalAndSuspension() async throws {
        try await Self.withProvider(newAccounts: .approval) { harness, _ in
            #expect(try await Self.trip(harness, hint: "pat").landing == "/#sign-in-error=account_pending")
            let pat = try #require(try await harness.store.user(named: "pat"))
            #expect(pat.isPending)
            #expect(try await harness.store.sessions(userID: pat.id).isEmpty)
            #expect(try await harness.store.securityEvents(userID: pat.id, limit: 5).map(\.kind) == [.signInRefused])
            // Still waiting on the next try: the same account, not another.
            #expect(try await Self.trip(harness, hint: "pat").landing == "/#sign-in-error=account_pending")
            #expect(try await harness.store.user(named: "pat-2") == nil)

            try await harness.store.setSuspended(userID: pat.id, suspended: false)
            #expect(Self.token(from: try await Self.trip(harness, hint: "pat").landing) != nil)
            try await harness.store.setSuspended(userID: pat.id, suspended: true)
            #expect(try await Self.trip(harness, hint: "pat").landing == "/#sign-in-error=account_suspended")
        }
    }

    @Test("a provider that cannot be reached sends the browser back with an error, not a broken page")
    func unreachableProvider() async throws {
        let closed = try ClosedPort()
        let settings = OIDCSettings(
            issuer: "http://127.0.0.1:\(closed.port)", clientID: "sluice", clientSecret: "secret", redirectURI: Self.redirectURI)
        try await Harness.run(singleSignOn: SingleSignOn(client: OIDCClient(settings: settings))) { harness in
            let start = try await Self.get("http://127.0.0.1:\(harness.port)/api/sign-in/oidc/start")
            #expect(start.status == 302 && start.location == "/#sign-in-error=sso_unavailable")
            #expect(start.setCookie?.contains("Max-Age=0") == true)
        }
        _ = closed
    }

    @Test("without a provider the sign-in page offers none, and its routes say so")
    func off() async throws {
        try await Harness.run { harness in
            let offer = try await harness.request(.GET, "/api/sign-in/oidc", token: nil)
            #expect(offer.status == 200 && offer.json?["enabled"] as? Bool == false && offer.json?["name"] == nil)
            #expect(try await Self.get("http://127.0.0.1:\(harness.port)/api/sign-in/oidc/start").location == "/#sign-in-error=sso_off")
        }
    }

    @Test("new accounts are named by the provider's user name, else the email address, else the full name")
    func accountNames() {
        let named = OIDCIdentity(issuer: "i", subject: "s", email: "d@x.test", name: "Dana Scully", preferredUsername: "dana")
        #expect(SingleSignOn.accountNames(for: named).prefix(3) == ["dana", "dana-2", "dana-3"])
        #expect(SingleSignOn.accountNames(for: OIDCIdentity(issuer: "i", subject: "s", email: "d@x.test", name: "Dana")).first == "d@x.test")
        #expect(SingleSignOn.accountNames(for: OIDCIdentity(issuer: "i", subject: "s", name: "Dana Scully")).first == "Dana Scully")
        // A name no user may have (a '/') is passed over.
        #expect(SingleSignOn.accountNames(for: OIDCIdentity(issuer: "i", subject: "s", name: "a/b")).first == "user")
    }
}
