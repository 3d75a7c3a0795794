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

extension Migrations {
    /// Step 29: what the response cache saved. A turn answered from it settles as `cached` — charged nothing, counted
    /// nowhere a `settled` row is — with the tokens and the cost of the call it repeated, for the usage pages.
    static let cacheSavingsStep = Step(
        version: 29,
        statements: [
            "ALTER TABLE token_usage ADD COLUMN saved_tokens INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE token_usage ADD COLUMN saved_cost_picousd INTEGER NOT NULL DEFAULT 0",
        ])
}

extension StoredValues {
    /// A usage bucket's columns over `token_usage u` joined with its answer `m` (`usageJoins`; `usageBucket` reads
    /// them), in both stores' SQL; `usageRows` picks the rows. `cast` widens a sum (PostgreSQL's `SUM` of `BIGINT` is `numeric`).
    static func usageSums(cast: String) -> String {
        """
        SUM(u.input_tokens)\(cast) AS input, SUM(u.output_tokens)\(cast) AS output, SUM(u.total_tokens)\(cast) AS total,
            SUM(u.cost_picousd)\(cast) AS cost, COUNT(*) AS turns, MAX(u.created_at) AS last_at,
            SUM(CASE WHEN u.state = 'cached' THEN 1 ELSE 0 END)\(cast) AS cache_hits,
            SUM(u.saved_tokens)\(cast) AS saved_tokens, SUM(u.saved_cost_picousd)\(cast) AS saved_cost,
            SUM(CASE WHEN m.feedback = 'good' THEN 1 ELSE 0 END)\(cast) AS rated_good,
            SUM(CASE WHEN m.feedback = 'bad' THEN 1 ELSE 0 END)\(cast) AS rated_bad,
            SUM(u.cached_input_tokens)\(cast) AS cached_input
        """
    }

    /// What a usage bucket's rows are joined with: the conversation `c` (a label), the API key `k` (a label) and the
    /// answer `m` (its rating, schema step 32).
    static let usageJoins = """
        FROM token_usage u LEFT JOIN conversations c ON c.id = u.conversation_id LEFT JOIN api_keys k ON k.id = u.api_key_id
            LEFT JOIN messages m ON m.id = u.message_id LEFT JOIN projects p ON p.id = c.project_id
        """

    /// The ledger rows usage history counts: settled turns and answers from the response cache.
    static let usageRows = "u.state IN ('settled', 'cached')"


    /// `response_cache.response`: the cached response as JSON.
    static func encodeCachedResponse(_ response: CachedResponse) throws -> String {
        String(decoding: try JSONEncoder().encode(response), as: UTF8.self)
    }

    /// A row's response; `nil` when it cannot be read (a row written by a later version), which counts as a miss.
    static func decodeCachedResponse(_ text: String?) -> CachedResponse? {
        text.flatMap { try? JSONDecoder().decode(CachedResponse.self, from: Data($0.utf8)) }
    }
}
