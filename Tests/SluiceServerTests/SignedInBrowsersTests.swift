import Foundation
import Hummingbird
import NIOCore
import SluiceCore
import SluiceStore
import SluiceTestSupport
import Testing

@testable import SluiceServer

/// `GET /api/me/sessions`, `DELETE /api/me/sessions/{id}`, `DELETE /api/admin/users/{name}/sessions`, and the
/// sign-in's limit per client address, behind a trusted proxy or not.
@Suite("Signed-in browsers")
struct SignedInBrowsersTests {
    static func setPassword(_ h: Harness, _ token: String, _ password: String) async throws {
        let body = String(decoding: try JSONSerialization.data(withJSONObject: ["password": password]), as: UTF8.self)
        #expect(try await h.request(.PUT, "/api/me/password", token: token, body: body).status == 200)
    }

    static func signIn(_ h: Harness, _ name: String, _ password: String, headers: [String: String] = [:]) async throws -> Harness.Reply {
        let body = String(decoding: try JSONSerialization.data(withJSONObject: ["name": name, "password": password]), as: UTF8.self)
        return try await h.request(.POST, "/api/sign-in", token: nil, body: body, headers: headers)
    }

    static func sessions(_ h: Harness, _ token: String) async throws -> [[String: Any]] {
        let reply = try await h.request(.GET, "/api/me/sessions", token: token)
        #expect(reply.status == 200)
        return reply.json?["sessions"] as? [[String: Any]] ?? []
    }

    static let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
    static let phone = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Version/18.0 Mobile/15E148 Safari/604.1"

    @Test("each browser is listed with its User-Agent, its address and which one is asking; one signs out alone, only its own user's",
          arguments: TestDatabases.backends)
    func listAndEndOne(database: StoreBackend) async throws {
        try await Harness.run(database: database) { h in
            try await Self.setPassword(h, h.bob, "bob's password")
            let laptop = try SignInRoutesTests.session(try await Self.signIn(h, "bob", "bob's password", headers: ["User-Agent": Self.firefox]))
            // Not behind a trusted proxy: a client's own X-Forwarded-For is not believed.
            let phone = try SignInRoutesTests.session(try await Self.signIn(
                h, "bob", "bob's password", headers: ["User-Agent": Self.phone, "X-Forwarded-For": "203.0.113.9"]))

            let listed = try await Self.sessions(h, laptop)
            #expect(listed.map { $0["user_agent"] as? String } == [Self.phone, Self.firefox])
            #expect(listed.map { $0["address"] as? String } == ["127.0.0.1", "127.0.0.1"])
            #expect(listed.map { $0["current"] as? Bool } == [false, true])
            #expect(listed.allSatisfy { ($0["created_at"] as? String)?.hasPrefix("20") == true && $0["expires_at"] is String })
            #expect(listed.allSatisfy { $0["token"] == nil && $0["token_hash"] == nil })
            // With his own token, no session is the current one; Alice has none.
            #expect(try await Self.sessions(h, h.bob).compactMap { $0["current"] as? Bool } == [false, false])
            #expect(try await Self.sessions(h, h.alice).isEmpty)

            let phoneID = try #require(listed.first?["id"] as? String)
            let notHers = try await h.request(.DELETE, "/api/me/sessions/\(phoneID)", token: h.alice)
            #expect(notHers.status == 404 && notHers.errorCode == "session_not_found")
            #expect(try await h.request(.GET, "/api/me", token: phone).status == 200)
            #expect(try await h.request(.DELETE, "/api/me/sessions/\(phoneID)", token: laptop).status == 204)
            #expect(try await h.request(.GET, "/api/me", token: phone).status == 401)
            #expect(try await h.request(.GET, "/api/me", token: laptop).status == 200)
            let again = try await h.request(.DELETE, "/api/me/sessions/\(phoneID)", token: laptop)
            #expect(again.status == 404 && again.errorMessage?.contains("Reload the list") == true)
            #expect(try await Self.sessions(h, laptop).count == 1)

            // An API key may neither list its user's browsers nor sign them out.
            let key = try #require(try await h.request(.POST, "/api/keys", token: h.bob, body: #"{"label":"ci"}"#).json?["key"] as? String)
            let listing = try await h.request(.GET, "/api/me/sessions", token: key)
            #expect(listing.status == 403 && listing.errorCode == "key_cannot_list_sessions")
            let ending = try await h.request(.DELETE, "/api/me/sessions/\(phoneID)", token: key)
            #expect(ending.status == 403 && ending.errorCode == "key_cannot_sign_out")
        }
    }

    @Test("a session's last use is written down at its first request and then at most every few minutes, not per request",
          arguments: TestDatabases.backends)
    func lastActive(database: StoreBackend) async throws {
        try await Harness.run(database: database) { h in
            try await Self.setPassword(h, h.bob, "bob's password")
            let session = try SignInRoutesTests.session(try await Self.signIn(h, "bob", "bob's password"))
            let hash = AccessToken.hash(session)
            let lastActive = { () async throws -> Date in
                let listed = try await Self.sessions(h, h.bob)
                let text = try #require(listed.first?["last_active_at"] as? String)
                return try Date(text, strategy: .iso8601)
            }
            let signedIn = try await lastActive()
            #expect(abs(signedIn.timeIntervalSinceNow) < 60)
            let twoHoursAgo = Date().addingTimeInterval(-7200)
            try await h.store.markSessionActive(tokenHash: hash, at: twoHoursAgo, expiresAt: twoHoursAgo)
            #expect(abs(try await lastActive().timeIntervalSince(twoHoursAgo)) < 1)

            #expect(try await h.request(.GET, "/api/me", token: session).status == 200)
            #expect(abs(try await lastActive().timeIntervalSinceNow) < 60)
            // Used again at once: nothing is written (the test would see the old time otherwise overwritten).
            try await h.store.markSessionActive(tokenHash: hash, at: twoHoursAgo, expiresAt: twoHoursAgo)
            for _ in 0..<3 { #expect(try await h.request(.GET, "/api/me", token: session).status == 200) }
            #expect(abs(try await lastActive().timeIntervalSince(twoHoursAgo)) < 1)

            // A session lasts from its last use: one a minute from its end is kept the whole lifetime (30 days) again.
            let ending = AccessToken.generate()
            let bob = try #require(try await h.store.user(named: "bob"))
            try await h.store.startSession(
                userID: bob.id, tokenHash: AccessToken.hash(ending), expiresAt: Date().addingTimeInterval(60),
                origin: SessionOrigin(userAgent: "ending", address: nil))
            let endsAt = { () async throws -> Date in
                let listed = try await Self.sessions(h, h.bob).first { $0["user_agent"] as? String == "ending" }
                return try Date(try #require(listed?["expires_at"] as? String), strategy: .iso8601)
            }
            #expect(try await endsAt().timeIntervalSinceNow < 61)
            #expect(try await h.request(.GET, "/api/me", token: ending).status == 200)
            #expect(try await endsAt().timeIntervalSinceNow > 29 * 86_400)
        }
    }

    @Test("an administrator signs a user out of every browser, leaving their token; signing themselves out keeps this browser")
    func administratorSignsOut() async throws {
        try await Harness.run { h in
            try await Self.setPassword(h, h.alice, "alice's password")
            try await Self.setPassword(h, h.bob, "bob's password")
            let bobs = [try await Self.signIn(h, "bob", "bob's password"), try await Self.signIn(h, "bob", "bob's password")]
            let bobSessions = try bobs.map(SignInRoutesTests.session)
            #expect(try await h.request(.DELETE, "/api/admin/users/alice/sessions", token: h.bob).status == 403)

            let ended = try await h.request(.DELETE, "/api/admin/users/bob/sessions", token: h.alice)
            #expect(ended.status == 200 && ended.json?["ended_sessions"] as? Int == 2)
            for session in bobSessions { #expect(try await h.request(.GET, "/api/me", token: session).status == 401) }
            #expect(try await h.request(.GET, "/api/me", token: h.bob).status == 200)
            #expect(try await h.request(.DELETE, "/api/admin/users/nobody/sessions", token: h.alice).status == 404)

            let here = try SignInRoutesTests.session(try await Self.signIn(h, "alice", "alice's password"))
            let elsewhere = try SignInRoutesTests.session(try await Self.signIn(h, "alice", "alice's password"))
            let own = try await h.request(.DELETE, "/api/admin/users/alice/sessions", token: here)
            #expect(own.json?["ended_sessions"] as? Int == 1)
            #expect(try await h.request(.GET, "/api/me", token: here).status == 200)
            #expect(try await h.request(.GET, "/api/me", token: elsewhere).status == 401)
        }
    }

    @Test("a loopback peer that forwards no client is not held back per address — it may be a proxy for everyone — only per name")
    func noLimitForAnUnnamedProxy() async throws {
        try await Harness.run { h in
            try await Self.setPassword(h, h.alice, "alice's password")
            for attempt in 1...31 {
                #expect(try await Self.signIn(h, "name\(attempt)", "password1").status == 401)
            }
            #expect(try await Self.signIn(h, "alice", "alice's password").status == 200)
        }
    }

    @Test("behind a trusted proxy, wrong passwords from one client address over many names hold that address back, not another")
    func limitPerAddress() async throws {
        try await Harness.run(trustedProxies: ["127.0.0.1"]) { h in
            try await Self.setPassword(h, h.alice, "alice's password")
            let sprayer = ["X-Forwarded-For": "198.51.100.1"]
            // Each name is tried once only: the limit per name never applies.
            for attempt in 1...30 {
                #expect(try await Self.signIn(h, "name\(attempt)", "password1", headers: sprayer).status == 401)
            }
            let held = try await Self.signIn(h, "alice", "alice's password", headers: sprayer)
            #expect(held.status == 429 && held.errorCode == "too_many_attempts")
            #expect(held.errorMessage?.contains("from this address") == true)
            #expect(held.headers.first(name: "Retry-After").flatMap { Int($0) }.map { $0 > 60 } == true)
            // A client-written entry left of the proxy's is not what counts: the proxy's rightmost one is.
            let spoofed = ["X-Forwarded-For": "198.51.100.2, 198.51.100.1"]
            #expect(try await Self.signIn(h, "alice", "alice's password", headers: spoofed).status == 429)
            let other = try await Self.signIn(h, "alice", "alice's password", headers: ["X-Forwarded-For": "198.51.100.1, 198.51.100.2"])
            #expect(other.status == 200)
            let session = try SignInRoutesTests.session(other)
            #expect(try await Self.sessions(h, session).first?["address"] as? String == "198.51.100.2")
        }
    }
}

/// The bound on bcrypt work under way at once.
@Suite("Password work")
struct PasswordWorkTests {
    @Test("past its limit, password work is refused at once with 503 sign_in_busy and Retry-After; a finished one frees a place")
    func bounded() throws {
        let work = PasswordWork(limit: 2)
        try work.enter()
        try work.enter()
        #expect(work.count == 2)
        let refusal = #expect(throws: APIError.self) { try work.enter() }
        #expect(refusal?.status == .serviceUnavailable && refusal?.code == "sign_in_busy")
        #expect(refusal?.headers[.retryAfter] == "2" && refusal?.message.contains("Try again in a few seconds") == true)
        #expect(work.count == 2)
        work.leave()
        try work.enter()
        #expect(work.count == 2)
    }

    @Test("a sign-in that finds no place is answered 503 at once, and the work it did not start is not counted")
    func refusedSignIn() async throws {
        try await Harness.run(passwords: PasswordHasher(cost: 4, concurrentLimit: 0)) { h in
            let busy = try await SignedInBrowsersTests.signIn(h, "alice", "whatever it is")
            #expect(busy.status == 503 && busy.errorCode == "sign_in_busy" && busy.headers.first(name: "Retry-After") == "2")
            let change = try await h.request(.PUT, "/api/me/password", token: h.alice, body: #"{"password":"a new password"}"#)
            #expect(change.status == 503 && change.errorCode == "sign_in_busy")
            #expect(try await h.request(.GET, "/api/me", token: h.alice).json?["has_password"] as? Bool == false)
        }
    }

    @Test("the work a sign-in does is given back when it ends: many sign-ins one after another all get through")
    func givenBack() async throws {
        try await Harness.run(passwords: PasswordHasher(cost: 4, concurrentLimit: 1)) { h in
            for attempt in 1...4 {
                let refused = try await SignedInBrowsersTests.signIn(h, "nobody\(attempt)", "whatever it is")
                #expect(refused.status == 401)
            }
        }
    }
}

/// Which address a request is counted under.
@Suite("Client addresses")
struct ClientAddressesTests {
    static func headers(_ forwarded: String...) -> HTTPFields {
        var fields = HTTPFields()
        for value in forwarded { fields.append(.init(name: ClientAddresses.forwardedFor, value: value)) }
        return fields
    }

    @Test("the peer itself unless it is a trusted proxy; then the rightmost forwarded address that is not one")
    func addresses() throws {
        let direct = ClientAddresses()
        let proxy = try SocketAddress(ipAddress: "127.0.0.1", port: 50_000)
        #expect(direct.address(peer: proxy, headers: Self.headers("203.0.113.9")) == "127.0.0.1")
        #expect(direct.address(peer: nil, headers: Self.headers("203.0.113.9")) == nil)

        let behind = ClientAddresses(trustedProxies: ["127.0.0.1", "10.0.0.5", "::1"])
        #expect(behind.address(peer: proxy, headers: HTTPFields()) == "127.0.0.1")
        #expect(behind.address(peer: proxy, headers: Self.headers("203.0.113.9")) == "203.0.113.9")
        // Two proxies in a row, and the header given twice: read as one list.
        #expect(behind.address(peer: proxy, headers: Self.headers("6.6.6.6, 203.0.113.9", "10.0.0.5")) == "203.0.113.9")
        #expect(behind.address(peer: proxy, headers: Self.headers(" 2001:DB8::7 ")) == "2001:db8::7")
        #expect(behind.address(peer: proxy, headers: Self.headers("10.0.0.5")) == "10.0.0.5")
        // An IPv4 client over an IPv6 socket is counted as the same IPv4 address.
        let mapped = try SocketAddress(ipAddress: "::ffff:192.0.2.7", port: 1)
        #expect(direct.address(peer: mapped, headers: HTTPFields()) == "192.0.2.7")
        let local6 = try SocketAddress(ipAddress: "::1", port: 1)
        #expect(behind.address(peer: local6, headers: Self.headers("192.0.2.8")) == "192.0.2.8")
        // Not a trusted proxy: its header is whatever its client wrote.
        let stranger = try SocketAddress(ipAddress: "192.0.2.50", port: 1)
        #expect(behind.address(peer: stranger, headers: Self.headers("127.0.0.1")) == "192.0.2.50")

        // A forwarded address stands for one client, a public peer too; a local peer naming no one may stand for many.
        #expect(behind.client(peer: proxy, headers: Self.headers("10.1.2.3"))! == ("10.1.2.3", true))
        #expect(behind.client(peer: stranger, headers: HTTPFields())! == ("192.0.2.50", true))
        #expect(behind.client(peer: proxy, headers: HTTPFields())! == ("127.0.0.1", false))
        let bridge = try SocketAddress(ipAddress: "172.17.0.1", port: 1)
        #expect(direct.client(peer: bridge, headers: Self.headers("203.0.113.9"))! == ("172.17.0.1", false))
    }

    @Test("loopback, private and link-local addresses are local; public ones are not")
    func local() {
        for address in ["127.0.0.1", "10.0.0.5", "172.16.0.1", "172.31.255.1", "192.168.1.20", "169.254.1.1", "::1", "fd00::1", "fe80::1"] {
            #expect(ClientAddresses.isLocal(address), "\(address)")
        }
        for address in ["172.32.0.1", "172.15.0.1", "192.0.2.7", "8.8.8.8", "2001:db8::7", "11.0.0.1"] {
            #expect(!ClientAddresses.isLocal(address), "\(address)")
        }
    }
}
