import Foundation
import PostgresNIO
import SluiceCore

/// Labelled keys besides a user's token (`APIKey`, schema step 21).
extension PostgresStore {
    public func addAPIKey(userID: String, label: String, tokenHash: String, terms: APIKey.Terms) async throws -> APIKey {
        let key = StoredValues.newKey(userID: userID, label: label, terms: terms)
        let expires = terms.expiresAt.map(StoredValues.milliseconds)
        let models = terms.allowedModels.map(StoredValues.encodeModels)
        let daily = terms.dailyDollarLimit.map { Int($0.picodollars) }
        let caps = terms.rateCaps
        do {
            try await execute(
                """
                INSERT INTO api_keys (id, user_id, label, token_hash, created_at, expires_at, allowed_models, daily_usd_limit_picousd,
                    requests_per_minute, tokens_per_minute, max_parallel_requests)
                VALUES (\(key.id), \(userID), \(label), \(tokenHash), \(StoredValues.milliseconds(key.createdAt)), \(expires), \(models),
                    \(daily), \(caps.requestsPerMinute), \(caps.tokensPerMinute), \(caps.maxParallel))
                """, logger: logger)
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            throw StoreError.conflict("this user already has a key labelled '\(label)'")
        }
        return key
    }

    public func apiKeys(userID: String) async throws -> [APIKey] {
        try await rows("SELECT * FROM api_keys WHERE user_id = \(userID) ORDER BY created_at, id").map(StoredValues.apiKey)
    }

    public func revokeAPIKey(userID: String, label: String) async throws -> Bool {
        !(try await rows(
            """
            UPDATE api_keys SET revoked_at = \(StoredValues.milliseconds(StoredValues.now()))
            WHERE user_id = \(userID) AND label = \(label) AND revoked_at IS NULL RETURNING id
            """
        ).isEmpty)
    }
}
