import Foundation
import SluiceCore
import SluiceTestSupport
import Testing
@testable import SluiceStore

/// Schema step 56: passwords and the sessions signing in with one starts.
@Suite("Passwords and sessions")
struct SignInStoreTests {
    @Test("a session's token signs its user in as their own token does, until it ends or expires",
          arguments: TestDatabases.backends)
    func sessions(_ backend: StoreBackend) async throws {
        let (store, _) = try await TestDatabases.makeStore(backend)
        try await store.migrate()
        let ann = try await store.createUser(name: "ann", plan: .free, tokenHash: "ann-hash")
        let ben = try await store.createUser(name: "ben", plan: .free, tokenHash: "ben-hash")
        let later = Date().addingTimeInterval(3600)
        try await store.startSession(userID: ann.id, tokenHash: "ann-laptop", expiresAt: later, origin: Self.nowhere)
        try await store.startSession(userID: ann.id, tokenHash: "ann-phone", expiresAt: later, origin: Self.nowhere)
        try await store.startSession(userID: ben.id, tokenHash: "ben-laptop", expiresAt: later, origin: Self.nowhere)
        let laptop = try #require(try await store.credential(tokenHash: "ann-laptop"))
        // As the user themselves: no key, so no key's limits, and an administrator may manage users with it.
        #expect(laptop.user.id == ann.id && laptop.user.isAdmin && laptop.apiKeyID == nil && laptop.keyUse == nil)
        #expect(laptop.expiresAt == nil)

        #expect(try await store.endSession(tokenHash: "ann-laptop"))
        #expect(try await store.endSession(tokenHash: "ann-laptop") == false)
        #expect(try await store.endSession(tokenHash: "ann-hash") == false)
        #expect(try await store.credential(tokenHash: "ann-laptop") == nil)
        #expect(try await store.credential(tokenHash: "ann-hash")?.user.id == ann.id)

        // Every other session of Ann's ends; Ben's is not hers.
        try await store.startSession(userID: ann.id, tokenHash: "ann-desk", expiresAt: later, origin: Self.nowhere)
        #expect(try await store.endSessions(userID: ann.id, keeping: "ann-desk") == 1)
        #expect(try await store.credential(tokenHash: "ann-phone") == nil)
        #expect(try await store.credential(tokenHash: "ann-desk")?.user.id == ann.id)
        #expect(try await store.credential(tokenHash: "ben-laptop")?.user.id == ben.id)
        #expect(try await store.endSessions(userID: ann.id, keeping: nil) == 1)
        #expect(try await store.credential(tokenHash: "ann-desk") == nil)

        // An expired session signs no one in, and the user's next sign-in clears it away.
        try await store.startSession(userID: ben.id, tokenHash: "ben-old", expiresAt: Date().addingTimeInterval(-1), origin: Self.nowhere)
        #expect(try await store.credential(tokenHash: "ben-old") == nil)
        try await store.startSession(userID: ben.id, tokenHash: "ben-new", expiresAt: later, origin: Self.nowhere)
        #expect(try await StoreTests.column(
            "token_hash", of: "SELECT token_hash FROM sessions WHERE user_id = '\(ben.id)' ORDER BY token_hash", in: store)
            == ["ben-laptop", "ben-new"])
        try await store.close()
    }

    @Test("a password's hash is kept apart from the user, who only shows that there is one; deleting the user ends it all",
          arguments: TestDatabases.backends)
    func passwords(_ backend: StoreBackend) async throws {
        let (store, _) = try await TestDatabases.makeStore(backend)
        try await store.migrate()
        let ann = try await store.createUser(name: "ann", plan: .free, tokenHash: "ann-hash")
        let ben = try await store.createUser(name: "ben", plan: .free, tokenHash: "ben-hash")
        #expect(try await store.passwordHash(userID: ben.id) == nil)
        #expect(try await store.user(named: "ben")?.hasPassword == false)
        try await store.setPasswordHash(userID: ben.id, hash: "$2b$04$bens")
        #expect(try await store.passwordHash(userID: ben.id) == "$2b$04$bens")
        #expect(try await store.passwordHash(userID: ann.id) == nil)
        #expect(try await store.user(named: "ben")?.hasPassword == true)
        #expect(try await store.users().map(\.hasPassword) == [false, true])
        #expect(try await store.credential(tokenHash: "ben-hash")?.user.hasPassword == true)
        try await store.setPasswordHash(userID: ben.id, hash: nil)
        #expect(try await store.user(named: "ben")?.hasPassword == false)

        try await store.setPasswordHash(userID: ben.id, hash: "$2b$04$bens")
        try await store.startSession(userID: ben.id, tokenHash: "ben-laptop", expiresAt: Date().addingTimeInterval(3600), origin: Self.nowhere)
        #expect(try await store.deleteUser(userID: ben.id))
        #expect(try await store.credential(tokenHash: "ben-laptop") == nil)
        #expect(try await store.passwordHash(userID: ben.id) == nil)
        try await store.close()
    }

    @Test("a user's sessions list where each was signed in from, the newest first; one ends alone, and only its own user's",
          arguments: TestDatabases.backends)
    func sessionList(_ backend: StoreBackend) async throws {
        let (store, _) = try await TestDatabases.makeStore(backend)
        try await store.migrate()
        let ann = try await store.createUser(name: "ann", plan: .free, tokenHash: "ann-hash")
        let ben = try await store.createUser(name: "ben", plan: .free, tokenHash: "ben-hash")
        let later = Date().addingTimeInterval(3600)
        let laptop = SessionOrigin(userAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0", address: "192.0.2.7")
        try await store.startSession(userID: ann.id, tokenHash: "ann-laptop", expiresAt: later, origin: laptop)
        try await store.startSession(userID: ann.id, tokenHash: "ann-script", expiresAt: later, origin: Self.nowhere)
        try await store.startSession(userID: ann.id, tokenHash: "ann-old", expiresAt: Date().addingTimeInterval(-1), origin: laptop)
        try await store.startSession(userID: ben.id, tokenHash: "ben-laptop", expiresAt: later, origin: laptop)
        _ = try await StoreTests.column(
            "x", of: "UPDATE sessions SET created_at = created_at - 60000 WHERE token_hash = 'ann-laptop'", in: store)

        let sessions = try await store.sessions(userID: ann.id)
        // The expired one is not listed; the one made later comes first; what was not sent reads as nil.
        #expect(sessions.map(\.tokenHash) == ["ann-script", "ann-laptop"])
        #expect(sessions.map(\.origin) == [Self.nowhere, laptop])
        #expect(sessions[1].expiresAt.timeIntervalSince(later).magnitude < 0.002)
        #expect(sessions[0].createdAt.timeIntervalSince(sessions[1].createdAt) >= 59)
        // Last active at the sign-in until a use is written down; a hash no session has changes nothing.
        #expect(sessions[0].lastActiveAt == sessions[0].createdAt)
        let used = Date(timeIntervalSince1970: 2_000_000_000)
        let farLater = Date(timeIntervalSince1970: 2_100_000_000)
        try await store.markSessionActive(tokenHash: "ann-laptop", at: used, expiresAt: farLater)
        try await store.markSessionActive(tokenHash: "ann-hash", at: used, expiresAt: farLater)
        // A use keeps the session longer, never shorter.
        try await store.markSessionActive(tokenHash: "ann-script", at: used, expiresAt: Date(timeIntervalSince1970: 1))
        let afterUse = try await store.sessions(userID: ann.id)
        #expect(afterUse.map(\.lastActiveAt) == [used, used])
        #expect(afterUse.map(\.expiresAt) == [sessions[0].expiresAt, farLater])

        // Ben cannot end Ann's session by its id; Ann can, and her other one stays.
        #expect(try await store.endSession(id: sessions[1].id, userID: ben.id) == false)
        #expect(try await store.credential(tokenHash: "ann-laptop")?.user.id == ann.id)
        #expect(try await store.endSession(id: sessions[1].id, userID: ann.id))
        #expect(try await store.endSession(id: sessions[1].id, userID: ann.id) == false)
        #expect(try await store.credential(tokenHash: "ann-laptop") == nil)
        #expect(try await store.sessions(userID: ann.id).map(\.tokenHash) == ["ann-script"])
        #expect(try await store.sessions(userID: ben.id).map(\.origin) == [laptop])
        try await store.close()
    }

    @Test("attempts are counted per kind and key within a window; old ones of the kind are forgotten as new ones come",
          arguments: TestDatabases.backends)
    func attempts(_ backend: StoreBackend) async throws {
        let (store, _) = try await TestDatabases.makeStore(backend)
        try await store.migrate()
        let now = Date.nowToTheMillisecond
        let ago = { (seconds: TimeInterval) in now.addingTimeInterval(-seconds) }
        // Compared as the milliseconds they are stored as.
        let ms = { (dates: [Date]) in dates.map { Int(($0.timeIntervalSince1970 * 1000).rounded()) } }
        let window = ago(900)
        try await store.recordAttempt(kind: "name", key: "ann", at: ago(1000), forgettingBefore: ago(100_000))
        try await store.recordAttempt(kind: "name", key: "ann", at: ago(600), forgettingBefore: ago(100_000))
        try await store.recordAttempt(kind: "name", key: "ann", at: ago(10), forgettingBefore: ago(100_000))
        try await store.recordAttempt(kind: "name", key: "ben", at: ago(5), forgettingBefore: ago(100_000))
        try await store.recordAttempt(kind: "address", key: "ann", at: ago(2000), forgettingBefore: ago(100_000))
        // Only Ann's, of her kind, in the window, oldest first.
        #expect(ms(try await store.attempts(kind: "name", key: "ann", since: window)) == ms([ago(600), ago(10)]))
        #expect(ms(try await store.attempts(kind: "name", key: "ben", since: window)) == ms([ago(5)]))
        #expect(ms(try await store.attempts(kind: "address", key: "ann", since: ago(3000))) == ms([ago(2000)]))

        // A new attempt forgets its kind's old ones (Ann's 1000 s old one), not another kind's.
        try await store.recordAttempt(kind: "name", key: "cy", at: now, forgettingBefore: window)
        #expect(ms(try await store.attempts(kind: "name", key: "ann", since: ago(100_000))) == ms([ago(600), ago(10)]))
        #expect(ms(try await store.attempts(kind: "address", key: "ann", since: ago(100_000))) == ms([ago(2000)]))

        try await store.clearAttempts(kind: "name", key: "ann")
        #expect(try await store.attempts(kind: "name", key: "ann", since: ago(100_000)).isEmpty)
        #expect(ms(try await store.attempts(kind: "name", key: "ben", since: window)) == ms([ago(5)]))
        try await store.close()
    }

    static let nowhere = SessionOrigin(userAgent: nil, address: nil)
}

/// Schema step 60: two-step verification's secret, the last step taken, and recovery codes.
@Suite("Two-step verification in the store")
struct TwoStepStoreTests {
    @Test("a secret waits until its first code turns it on; each step and each recovery code is taken once, by one of many at once",
          arguments: TestDatabases.backends)
    func twoStep(_ backend: StoreBackend) async throws {
        let (store, _) = try await TestDatabases.makeStore(backend)
        try await store.migrate()
        let ann = try await store.createUser(name: "ann", plan: .free, tokenHash: "ann-hash")
        #expect(try await store.twoStep(userID: ann.id) == nil)
        #expect(try await store.enableTwoStep(userID: ann.id, step: 100, recoveryCodeHashes: ["a"]) == false)
        #expect(try await store.beginTwoStep(userID: ann.id, secret: "FIRST"))
        #expect(try await store.beginTwoStep(userID: ann.id, secret: "SECOND"))
        let waiting = try #require(try await store.twoStep(userID: ann.id))
        #expect(waiting.secret == "SECOND" && !waiting.isOn && waiting.recoveryCodesLeft == 0)
        #expect(try await store.takeTwoStepCode(userID: ann.id, step: 100) == false)
        #expect(try await store.twoStepUserIDs().isEmpty)

        #expect(try await store.enableTwoStep(userID: ann.id, step: 100, recoveryCodeHashes: ["a", "b", "a"]))
        let on = try #require(try await store.twoStep(userID: ann.id))
        #expect(on.isOn && on.secret == "SECOND" && on.lastStep == 100 && on.recoveryCodesLeft == 2)
        #expect(try await store.beginTwoStep(userID: ann.id, secret: "THIRD") == false)
        #expect(try await store.twoStep(userID: ann.id)?.secret == "SECOND")
        #expect(try await store.twoStepUserIDs() == [ann.id])

        #expect(try await store.takeTwoStepCode(userID: ann.id, step: 100) == false)
        #expect(try await store.takeTwoStepCode(userID: ann.id, step: 99) == false)
        #expect(try await store.takeTwoStepCode(userID: ann.id, step: 101))
        #expect(try await store.takeTwoStepCode(userID: ann.id, step: 101) == false)
        let taken = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 { group.addTask { try await store.takeTwoStepCode(userID: ann.id, step: 102) } }
            return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
        }
        #expect(taken == 1)

        #expect(try await store.takeRecoveryCode(userID: ann.id, codeHash: "a"))
        #expect(try await store.takeRecoveryCode(userID: ann.id, codeHash: "a") == false)
        #expect(try await store.twoStep(userID: ann.id)?.recoveryCodesLeft == 1)
        try await store.replaceRecoveryCodes(userID: ann.id, hashes: ["c", "d", "e"])
        #expect(try await store.takeRecoveryCode(userID: ann.id, codeHash: "b") == false)
        #expect(try await store.twoStep(userID: ann.id)?.recoveryCodesLeft == 3)

        #expect(try await store.disableTwoStep(userID: ann.id))
        #expect(try await store.disableTwoStep(userID: ann.id) == false)
        #expect(try await store.twoStep(userID: ann.id) == nil)
        #expect(try await StoreTests.column("code_hash", of: "SELECT code_hash FROM recovery_codes", in: store).isEmpty)

        // Deleting a user forgets their two-step verification with the rest.
        let ben = try await store.createUser(name: "ben", plan: .free, tokenHash: "ben-hash")
        _ = try await store.beginTwoStep(userID: ben.id, secret: "BEN")
        _ = try await store.enableTwoStep(userID: ben.id, step: 5, recoveryCodeHashes: ["x"])
        #expect(try await store.deleteUser(userID: ben.id))
        #expect(try await store.twoStep(userID: ben.id) == nil)
        #expect(try await StoreTests.column("code_hash", of: "SELECT code_hash FROM recovery_codes", in: store).isEmpty)
        try await store.close()
    }
}

/// Schema step 61: each user's security log.
@Suite("The security log in the store")
struct SecurityLogStoreTests {
    @Test("events read back newest first, per user, as many as asked; old ones are forgotten as new ones come",
          arguments: TestDatabases.backends)
    func securityLog(_ backend: StoreBackend) async throws {
        let (store, _) = try await TestDatabases.makeStore(backend)
        try await store.migrate()
        let ann = try await store.createUser(name: "ann", plan: .free, tokenHash: "ann-hash")
        let ben = try await store.createUser(name: "ben", plan: .free, tokenHash: "ben-hash")
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let firefox = SessionOrigin(userAgent: "Firefox", address: "192.0.2.7")
        func event(_ kind: SecurityEvent.Kind, _ user: User, minutes: Double, detail: String? = nil) -> SecurityEvent {
            SecurityEvent(id: Identifier.make(), userID: user.id, kind: kind, at: start.addingTimeInterval(minutes * 60), origin: firefox, detail: detail)
        }
        let first = event(.passwordChanged, ann, minutes: 0)
        try await store.recordSecurityEvent(first, forgettingBefore: .distantPast)
        try await store.recordSecurityEvent(event(.signInRefused, ann, minutes: 1, detail: "wrong password"), forgettingBefore: .distantPast)
        try await store.recordSecurityEvent(event(.signedIn, ben, minutes: 2), forgettingBefore: .distantPast)
        try await store.recordSecurityEvent(event(.signedIn, ann, minutes: 3), forgettingBefore: .distantPast)
        let anns = try await store.securityEvents(userID: ann.id, limit: 10)
        #expect(anns.map(\.kind) == [.signedIn, .signInRefused, .passwordChanged])
        #expect(anns.last == first && anns[1].detail == "wrong password" && anns[0].origin == firefox)
        #expect(try await store.securityEvents(userID: ann.id, limit: 1).map(\.kind) == [.signedIn])
        #expect(try await store.securityEvents(userID: ben.id, limit: 10).count == 1)

        // A new event forgets its user's events from before the given moment, not another user's.
        try await store.recordSecurityEvent(event(.twoStepOn, ann, minutes: 4), forgettingBefore: start.addingTimeInterval(90))
        #expect(try await store.securityEvents(userID: ann.id, limit: 10).map(\.kind) == [.twoStepOn, .signedIn])
        #expect(try await store.securityEvents(userID: ben.id, limit: 10).count == 1)
        #expect(try await store.deleteUser(userID: ben.id))
        #expect(try await store.securityEvents(userID: ben.id, limit: 10).isEmpty)
        try await store.close()
    }
}
