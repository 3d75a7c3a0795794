import Foundation
import SluiceCore

/// The response cache in SQLite (schema step 28).
extension SQLiteStore {
    public func cachedResponse(key: String, now: Date, writtenSince: Date?) async throws -> CachedResponse? {
        let rows = try await connection.query(
            "SELECT response FROM response_cache WHERE cache_key = ?1 AND expires_at > ?2 AND (?3 IS NULL OR created_at >= ?3)",
            [.text(key), .integer(Self.milliseconds(now)), Self.optional(writtenSince.map(Self.milliseconds))])
        return StoredValues.decodeCachedResponse(rows.first?.string("response"))
    }

    public func cacheResponse(_ response: CachedResponse, key: String, userID: String, now: Date, expiresAt: Date) async throws {
        let text = try StoredValues.encodeCachedResponse(response)
        let (nowMs, expiresMs) = (Self.milliseconds(now), Self.milliseconds(expiresAt))
        try await connection.transaction { db in
            try SQLiteConnection.run("DELETE FROM response_cache WHERE expires_at <= ?", [.integer(nowMs)], in: db)
            try SQLiteConnection.run(
                """
                INSERT INTO response_cache (cache_key, user_id, model, response, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (cache_key) DO UPDATE SET user_id = excluded.user_id, model = excluded.model,
                    response = excluded.response, created_at = excluded.created_at, expires_at = excluded.expires_at
                """,
                [.text(key), .text(userID), .text(response.model), .text(text), .integer(nowMs), .integer(expiresMs)], in: db)
        }
    }

    public func clearCachedResponses(model: String?) async throws -> Int {
        try await connection.query(
            "DELETE FROM response_cache WHERE ?1 IS NULL OR model = ?1 RETURNING 1 AS removed", [Self.optional(model)]
        ).count
    }
}
