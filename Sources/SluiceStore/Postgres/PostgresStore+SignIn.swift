import Foundation
import PostgresNIO
import SluiceCore

/// Passwords and sessions (`SignInStore`, schema step 56) on PostgreSQL.
extension PostgresStore {
    public func passwordHash(userID: String) async throws -> String? {
        try await rows("SELECT password_hash FROM users WHERE id = \(userID)").first?.string("password_hash")
    }

    public func setPasswordHash(userID: String, hash: String?) async throws {
        try await execute("UPDATE users SET password_hash = \(hash) WHERE id = \(userID)", logger: logger)
    }

    public func startSession(userID: String, tokenHash: String, expiresAt: Date, origin: SessionOrigin) async throws {
        let now = StoredValues.milliseconds(StoredValues.now())
        // One statement: the expired sessions go as the new one comes.
        try await execute(
            """
            WITH expired AS (DELETE FROM sessions WHERE user_id = \(userID) AND expires_at <= \(now))
            INSERT INTO sessions (id, user_id, token_hash, created_at, last_active_at, expires_at, user_agent, address)
            VALUES (\(Identifier.make()), \(userID), \(tokenHash), \(now), \(now), \(StoredValues.milliseconds(expiresAt)),
                    \(origin.userAgent), \(origin.address))
            """, logger: logger)
    }

    public func sessions(userID: String) async throws -> [SignInSession] {
        let now = StoredValues.milliseconds(StoredValues.now())
        return try await rows(
            "SELECT * FROM sessions WHERE user_id = \(userID) AND expires_at > \(now) ORDER BY created_at DESC, id"
        ).map(StoredValues.session)
    }

    public func markSessionActive(tokenHash: String, at: Date, expiresAt: Date) async throws {
        try await execute(
            """
            UPDATE sessions SET last_active_at = \(StoredValues.milliseconds(at)),
                expires_at = GREATEST(expires_at, \(StoredValues.milliseconds(expiresAt))) WHERE token_hash = \(tokenHash)
            """, logger: logger)
    }

    public func endSession(id: String, userID: String) async throws -> Bool {
        !(try await rows("DELETE FROM sessions WHERE id = \(id) AND user_id = \(userID) RETURNING id").isEmpty)
    }

    public func markPending(userID: String) async throws {
        let now = StoredValues.milliseconds(StoredValues.now())
        try await execute("UPDATE users SET pending = 1, suspended_at = \(now) WHERE id = \(userID)", logger: logger)
    }

    public func endSession(tokenHash: String) async throws -> Bool {
        !(try await rows("DELETE FROM sessions WHERE token_hash = \(tokenHash) RETURNING id").isEmpty)
    }

    public func endSessions(userID: String, keeping: String?) async throws -> Int {
        try await rows(
            "DELETE FROM sessions WHERE user_id = \(userID) AND token_hash IS DISTINCT FROM \(keeping) RETURNING id"
        ).count
    }

    public func attempts(kind: String, key: String, since: Date) async throws -> [Date] {
        try await rows(
            "SELECT at FROM sign_in_attempts WHERE kind = \(kind) AND key = \(key) AND at > \(StoredValues.milliseconds(since)) ORDER BY at"
        ).map { $0.date("at") }
    }

    public func recordAttempt(kind: String, key: String, at: Date, forgettingBefore: Date) async throws {
        // One statement: the old attempts go as the new one comes.
        try await execute(
            """
            WITH forgotten AS (DELETE FROM sign_in_attempts WHERE kind = \(kind) AND at <= \(StoredValues.milliseconds(forgettingBefore)))
            INSERT INTO sign_in_attempts (kind, key, at) VALUES (\(kind), \(key), \(StoredValues.milliseconds(at)))
            """, logger: logger)
    }

    public func clearAttempts(kind: String, key: String) async throws {
        try await execute("DELETE FROM sign_in_attempts WHERE kind = \(kind) AND key = \(key)", logger: logger)
    }
}
