import Foundation

extension Migrations {
    /// Step 21: labelled keys besides a user's token (`APIKey`), so that each application or teammate has its own
    /// and one can be revoked, or rotated, without breaking the others. Only hashes are stored; a label is unique
    /// per user, revoked keys included, so that `sluice user key list` never shows two alike.
    static let apiKeysStep = Step(
        version: 21,
        statements: [
            """
            CREATE TABLE api_keys (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                label TEXT NOT NULL,
                token_hash TEXT NOT NULL UNIQUE,
                created_at INTEGER NOT NULL,
                revoked_at INTEGER,
                UNIQUE (user_id, label)
            )
            """,
        ])
}

extension Migrations {
    /// Step 23: each ledger row keeps the labelled key its turn was made with (`HoldRequest.apiKeyID`; `NULL` for the
    /// user's own token), so that usage, cost and last use show per key (`UsageGrouping.apiKey`), as LiteLLM shows
    /// spend per virtual key. No index: a report reaches a user's rows through `token_usage_by_user`, and every index
    /// is one more page each hold writes before the first token. On PostgreSQL `sluice_hold` takes the key as its
    /// last argument: a new argument list is a new function, so the old one is dropped.
    static let apiKeyLedgerStep = Step(
        version: 23,
        statements: ["ALTER TABLE token_usage ADD COLUMN api_key_id TEXT"],
        postgresOnly: [
            "DROP FUNCTION sluice_hold(\(holdArgumentTypes))",
            holdFunction(limitingEndUsers: true, limitingRates: true, recordingKeys: true),
        ])
}

extension Migrations {
    /// Step 24: a key may stop working by itself at a set time (`APIKey.expiresAt`; `NULL`: never), as LiteLLM's keys
    /// with a `duration` and GitHub's tokens do: a key handed to a contractor or a short-lived job need not be
    /// remembered to be revoked.
    static let apiKeyExpiryStep = Step(version: 24, statements: ["ALTER TABLE api_keys ADD COLUMN expires_at INTEGER"])
}

extension Migrations {
    /// Step 25: a key may be limited to some of its user's models (`APIKey.allowedModels`, one name per line as
    /// `users.allowed_models`; `NULL`: all of them), as LiteLLM's keys name their `models`: a CI job's key kept to a
    /// cheap model.
    static let apiKeyModelsStep = Step(version: 25, statements: ["ALTER TABLE api_keys ADD COLUMN allowed_models TEXT"])
}
