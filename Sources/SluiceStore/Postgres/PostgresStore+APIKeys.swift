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
        let tags = StoredValues.tagsJSON(terms.tags)
        do {
            try await execute(
                """
                INSERT INTO api_keys (id, user_id, label, token_hash, created_at, expires_at, allowed_models, daily_usd_limit_picousd,
                    requests_per_minute, tokens_per_minute, max_parallel_requests, tags)
                VALUES (\(key.id), \(userID), \(label), \(tokenHash), \(StoredValues.milliseconds(key.createdAt)), \(expires), \(models),
                    \(daily), \(caps.requestsPerMinute), \(caps.tokensPerMinute), \(caps.maxParallel), \(tags))
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

    public func updateAPIKey(userID: String, label: String, changes: APIKey.Changes) async throws -> APIKey? {
        let columns = KeyChangeColumns.columns(changes)
        guard !columns.isEmpty else {
            return try await apiKeys(userID: userID).first { $0.label == label && $0.revokedAt == nil }
        }
        var bindings = PostgresBindings()
        var set: [String] = []
        for (index, column) in columns.enumerated() {
            switch column.value {
            case .integer(let value):
                bindings.append(value)
                set.append("\(column.name) = $\(index + 1)::bigint")
            case .text(let value):
                bindings.append(value)
                set.append("\(column.name) = $\(index + 1)::text")
            }
        }
        bindings.append(userID)
        bindings.append(label)
        let sql = """
            UPDATE api_keys SET \(set.joined(separator: ", "))
            WHERE user_id = $\(columns.count + 1) AND label = $\(columns.count + 2) AND revoked_at IS NULL RETURNING *
            """
        return try await rows(PostgresQuery(unsafeSQL: sql, binds: bindings)).first.map(StoredValues.apiKey)
    }
}
