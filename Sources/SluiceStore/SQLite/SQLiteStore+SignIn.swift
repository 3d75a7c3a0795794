import Foundation
import SluiceCore

/// Passwords and sessions (`SignInStore`, schema step 56) on SQLite.
extension SQLiteStore {
    public func passwordHash(userID: String) async throws -> String? {
        try await connection.query("SELECT password_hash FROM users WHERE id = ?", [.text(userID)]).first?.string("password_hash")
    }

    public func setPasswordHash(userID: String, hash: String?) async throws {
        _ = try await connection.query("UPDATE users SET password_hash = ? WHERE id = ?", [Self.optional(hash), .text(userID)])
    }

    public func startSession(userID: String, tokenHash: String, expiresAt: Date, origin: SessionOrigin) async throws {
        let now = Self.milliseconds(StoredValues.now())
        try await connection.transaction { db in
            try SQLiteConnection.run(
                "DELETE FROM sessions WHERE user_id = ? AND expires_at <= ?", [.text(userID), .integer(now)], in: db)
            try SQLiteConnection.run(
                """
                INSERT INTO sessions (id, user_id, token_hash, created_at, last_active_at, expires_at, user_agent, address)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [.text(Identifier.make()), .text(userID), .text(tokenHash), .integer(now), .integer(now), .integer(Self.milliseconds(expiresAt)),
                 Self.optional(origin.userAgent), Self.optional(origin.address)],
                in: db)
        }
    }

    public func sessions(userID: String) async throws -> [SignInSession] {
        try await connection.query(
            "SELECT * FROM sessions WHERE user_id = ? AND expires_at > ? ORDER BY created_at DESC, id",
            [.text(userID), .integer(Self.milliseconds(StoredValues.now()))]
        ).map(StoredValues.session)
    }

    public func markSessionActive(tokenHash: String, at: Date, expiresAt: Date) async throws {
        _ = try await connection.query(
            "UPDATE sessions SET last_active_at = ?, expires_at = MAX(expires_at, ?) WHERE token_hash = ?",
            [.integer(Self.milliseconds(at)), .integer(Self.milliseconds(expiresAt)), .text(tokenHash)])
    }

    public func endSession(id: String, userID: String) async throws -> Bool {
        !(try await connection.query(
            "DELETE FROM sessions WHERE id = ? AND user_id = ? RETURNING id", [.text(id), .text(userID)]).isEmpty)
    }

    public func markPending(userID: String) async throws {
        _ = try await connection.query(
            "UPDATE users SET pending = 1, suspended_at = ? WHERE id = ?", [.integer(Self.milliseconds(StoredValues.now())), .text(userID)])
    }

    public func endSession(tokenHash: String) async throws -> Bool {
        !(try await connection.query("DELETE FROM sessions WHERE token_hash = ? RETURNING id", [.text(tokenHash)]).isEmpty)
    }

    public func endSessions(userID: String, keeping: String?) async throws -> Int {
        try await connection.query(
            "DELETE FROM sessions WHERE user_id = ? AND token_hash IS NOT ? RETURNING id", [.text(userID), Self.optional(keeping)]
        ).count
    }

    public func attempts(kind: String, key: String, since: Date) async throws -> [Date] {
        try await connection.query(
            "SELECT at FROM sign_in_attempts WHERE kind = ? AND key = ? AND at > ? ORDER BY at",
            [.text(kind), .text(key), .integer(Self.milliseconds(since))]
        ).map { $0.date("at") }
    }

    public func recordAttempt(kind: String, key: String, at: Date, forgettingBefore: Date) async throws {
        try await connection.transaction { db in
            try SQLiteConnection.run(
                "DELETE FROM sign_in_attempts WHERE kind = ? AND at <= ?", [.text(kind), .integer(Self.milliseconds(forgettingBefore))],
                in: db)
            try SQLiteConnection.run(
                "INSERT INTO sign_in_attempts (kind, key, at) VALUES (?, ?, ?)",
                [.text(kind), .text(key), .integer(Self.milliseconds(at))], in: db)
        }
    }

    public func clearAttempts(kind: String, key: String) async throws {
        _ = try await connection.query("DELETE FROM sign_in_attempts WHERE kind = ? AND key = ?", [.text(kind), .text(key)])
    }
}
