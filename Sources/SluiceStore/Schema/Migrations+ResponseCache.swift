import Foundation
import SluiceCore

extension Migrations {
    /// Step 28: the response cache (`ResponseCacheStore`), LiteLLM's exact-match cache kept in the database so that
    /// every instance on one PostgreSQL serves what any of them stored. A row is one `CachedResponse` as JSON under the
    /// hash of the request (`ResponseCacheKey`), with its model for `sluice cache clear --model` and the user whose call it answered (it goes with them); the expiry index lets
    /// each write drop what has expired.
    static let responseCacheStep = Step(
        version: 28,
        statements: [
            """
            CREATE TABLE response_cache (
                cache_key TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                model TEXT NOT NULL,
                response TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL
            )
            """,
            "CREATE INDEX response_cache_by_expiry ON response_cache(expires_at)",
        ])
}

extension StoredValues {
    /// `response_cache.response`: the cached response as JSON.
    static func encodeCachedResponse(_ response: CachedResponse) throws -> String {
        String(decoding: try JSONEncoder().encode(response), as: UTF8.self)
    }

    /// A row's response; `nil` when it cannot be read (a row written by a later version), which counts as a miss.
    static func decodeCachedResponse(_ text: String?) -> CachedResponse? {
        text.flatMap { try? JSONDecoder().decode(CachedResponse.self, from: Data($0.utf8)) }
    }
}
