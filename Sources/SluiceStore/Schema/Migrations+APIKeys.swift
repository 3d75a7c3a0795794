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
    /// is one more page each hold writes before the first token. On PostgreSQL `sluice_hold` takes the key and its
    /// daily limit (step 26) as its last arguments: a new argument list is a new function, so the old one is dropped.
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

extension Migrations {
    /// Step 26: what a key's turns may spend a day (`APIKey.dailyDollarLimit`, picodollars; `NULL`: no limit of its
    /// own), enforced by the hold as the user's daily limit is (`KeySpendingSQL`; the limit comes with the request's
    /// credential, so a key without one costs the hold nothing).
    static let apiKeyDailyLimitStep = Step(
        version: 26, statements: ["ALTER TABLE api_keys ADD COLUMN daily_usd_limit_picousd INTEGER"])
}

/// A key's spending today, as SQL over the ledger: settled costs plus what its live holds reserve, of the user's rows
/// made today with the key. No index of its own: a hold reads the user's rows of the day through
/// `token_usage_by_user (user_id, created_at)`, and only for a key with a limit. Both databases run these as written.
enum KeySpendingSQL {
    /// The key's dollars left under `limit` (picodollars), or a number larger than any budget without a limit.
    static func left(limit: String, user: String, key: String, now: String, dayStart: String) -> String {
        """
        (CASE WHEN \(limit) IS NULL THEN 9000000000000000000 ELSE \(limit) - \(spent(user: user, key: key, now: now, dayStart: dayStart)) END)
        """
    }

    /// The key's spending today (0 for none).
    static func spent(user: String, key: String, now: String, dayStart: String) -> String {
        """
        COALESCE((SELECT CAST(SUM(CASE WHEN u.state = 'settled' THEN u.cost_picousd
                    WHEN u.state = 'held' AND u.expires_at > \(now) THEN u.reserved_cost_picousd ELSE 0 END) AS BIGINT)
                FROM token_usage u WHERE u.user_id = \(user) AND u.api_key_id = \(key) AND u.created_at >= \(dayStart)), 0)
        """
    }
}
