import Foundation
import PostgresNIO
import SluiceCore

/// The response cache in PostgreSQL (schema step 28), shared by every instance on the database.
extension PostgresStore {
    public func cachedResponse(key: String, now: Date, writtenSince: Date?) async throws -> CachedResponse? {
        let nowMs = StoredValues.milliseconds(now)
        let sinceMs = writtenSince.map(StoredValues.milliseconds)
        let rows = try await rows(
            """
            SELECT response FROM response_cache
            WHERE cache_key = \(key) AND expires_at > \(nowMs) AND (\(sinceMs)::bigint IS NULL OR created_at >= \(sinceMs))
            """)
        return StoredValues.decodeCachedResponse(rows.first?.string("response"))
    }

    public func cacheResponse(_ response: CachedResponse, key: String, userID: String, now: Date, expiresAt: Date) async throws {
        let text = try StoredValues.encodeCachedResponse(response)
        let (nowMs, expiresMs) = (StoredValues.milliseconds(now), StoredValues.milliseconds(expiresAt))
        try await transaction { connection in
            _ = try await connection.query("DELETE FROM response_cache WHERE expires_at <= \(nowMs)", logger: logger)
            _ = try await connection.query(
                """
                INSERT INTO response_cache (cache_key, user_id, model, response, created_at, expires_at)
                VALUES (\(key), \(userID), \(response.model), \(text), \(nowMs), \(expiresMs))
                ON CONFLICT (cache_key) DO UPDATE SET user_id = excluded.user_id, model = excluded.model,
                    response = excluded.response, created_at = excluded.created_at, expires_at = excluded.expires_at
                """, logger: logger)
        }
    }

    public func clearCachedResponses(model: String?) async throws -> Int {
        try await rows("DELETE FROM response_cache WHERE \(model)::text IS NULL OR model = \(model) RETURNING 1 AS removed").count
    }
}
