import Foundation
import GRDB
import SluiceCore

/// Labelled keys besides a user's token (`APIKey`, schema step 21).
extension SQLiteStore {
    public func addAPIKey(userID: String, label: String, tokenHash: String, terms: APIKey.Terms) async throws -> APIKey {
        let key = StoredValues.newKey(userID: userID, label: label, terms: terms)
        do {
            _ = try await connection.query(
                """
                INSERT INTO api_keys (id, user_id, label, token_hash, created_at, expires_at, allowed_models, daily_usd_limit_picousd,
                    requests_per_minute, tokens_per_minute, max_parallel_requests, tags)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [.text(key.id), .text(userID), .text(label), .text(tokenHash), .integer(Self.milliseconds(key.createdAt)),
                 Self.optional(terms.expiresAt.map(Self.milliseconds)), Self.optional(terms.allowedModels.map(StoredValues.encodeModels)),
                 Self.optional(terms.dailyDollarLimit.map { Int($0.picodollars) }), Self.optional(terms.rateCaps.requestsPerMinute),
                 Self.optional(terms.rateCaps.tokensPerMinute), Self.optional(terms.rateCaps.maxParallel),
                 Self.optional(StoredValues.tagsJSON(terms.tags))])
        } catch let error as DatabaseError where error.isConstraintViolation {
            throw StoreError.conflict("this user already has a key labelled '\(label)'")
        }
        return key
    }

    public func apiKeys(userID: String) async throws -> [APIKey] {
        try await connection.query(
            "SELECT * FROM api_keys WHERE user_id = ? ORDER BY created_at, rowid", [.text(userID)]
        ).map(StoredValues.apiKey)
    }

    public func revokeAPIKey(userID: String, label: String) async throws -> Bool {
        !(try await connection.query(
            "UPDATE api_keys SET revoked_at = ? WHERE user_id = ? AND label = ? AND revoked_at IS NULL RETURNING id",
            [.integer(Self.milliseconds(StoredValues.now())), .text(userID), .text(label)]
        ).isEmpty)
    }

    public func updateAPIKey(userID: String, label: String, changes: APIKey.Changes) async throws -> APIKey? {
        let columns = KeyChangeColumns.columns(changes)
        guard !columns.isEmpty else {
            return try await apiKeys(userID: userID).first { $0.label == label && $0.revokedAt == nil }
        }
        let set = columns.map { "\($0.name) = ?" }.joined(separator: ", ")
        let values: [SQLiteData] = columns.map {
            switch $0.value {
            case .integer(let value): Self.optional(value)
            case .text(let value): Self.optional(value)
            }
        }
        return try await connection.query(
            "UPDATE api_keys SET \(set) WHERE user_id = ? AND label = ? AND revoked_at IS NULL RETURNING *",
            values + [.text(userID), .text(label)], cached: false
        ).first.map(StoredValues.apiKey)
    }
}
