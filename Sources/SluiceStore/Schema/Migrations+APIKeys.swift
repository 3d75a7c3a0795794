import Foundation
import SluiceCore

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

extension Migrations {
    /// Step 27: a key may have rate limits of its own within its user's (`APIKey.rateCaps`: requests and tokens per
    /// minute, answers at once — LiteLLM's key `rpm_limit`, `tpm_limit`, `max_parallel_requests`), so that one
    /// application's burst cannot take its whole account's allowance. The hold enforces them as it does the user's
    /// (`KeyRateSQL`), the limits coming with the request's credential. The key's last minute is read through a
    /// partial index of keyed rows: a turn made with the user's own token writes no page more for it. On PostgreSQL
    /// `sluice_hold` takes the three limits as its last arguments and returns the key's use (`key_rate_state`).
    static let apiKeyRateLimitsStep = Step(
        version: 27,
        statements: [
            "ALTER TABLE api_keys ADD COLUMN requests_per_minute INTEGER",
            "ALTER TABLE api_keys ADD COLUMN tokens_per_minute INTEGER",
            "ALTER TABLE api_keys ADD COLUMN max_parallel_requests INTEGER",
            "CREATE INDEX token_usage_by_key ON token_usage(api_key_id, created_at) WHERE api_key_id IS NOT NULL",
        ],
        postgresOnly: [
            "DROP FUNCTION sluice_hold(\(holdArgumentTypes), TEXT, BIGINT)",
            holdFunction(limitingEndUsers: true, limitingRates: true, recordingKeys: true, limitingKeyRates: true),
        ])
}

/// A key's rate limits and their use, as SQL over the ledger (schema step 27): `RateWindowSQL`'s window and running
/// turns, counted over the key's rows only. The limits are SQL expressions (the request's parameters); a key
/// without a limit of a kind reads nothing for it. Both databases run these as written.
enum KeyRateSQL {
    /// The limits and their use as columns named as `RateWindowSQL.stateNames` with `key_` before each;
    /// `callsOnly` as in `RateWindowSQL.stateColumns`.
    static func stateColumns(
        requestsPerMinute rpm: String, tokensPerMinute tpm: String, maxParallel parallel: String, user: String, key: String,
        now: String, callsOnly: Bool = false
    ) -> String {
        let calls = callsOnly ? RateWindowSQL.callsCondition : ""
        // Running turns through the user's partial index of held rows (a key's are among its user's); the window
        // through `token_usage_by_key`.
        let running = RateWindowSQL.running(of: "u.user_id = \(user) AND u.api_key_id = \(key)" + calls, now: now)
        let window = "u.api_key_id = \(key)"
        return """
            \(rpm) AS key_requests_per_minute, \(tpm) AS key_tokens_per_minute, \(parallel) AS key_max_parallel_requests,
                (CASE WHEN \(parallel) IS NULL THEN 0 ELSE \(running) END) AS key_running_requests,
                (CASE WHEN \(rpm) IS NULL AND \(tpm) IS NULL THEN 0 ELSE \(RateWindowSQL.requests(of: window + calls, now: now)) END) AS key_minute_requests,
                (CASE WHEN \(tpm) IS NULL THEN 0 ELSE \(RateWindowSQL.tokens(of: window, now: now)) END) AS key_minute_tokens,
                (CASE WHEN \(rpm) IS NULL AND \(tpm) IS NULL THEN NULL ELSE \(RateWindowSQL.oldest(of: window, now: now)) END) AS key_minute_oldest
            """
    }

    /// 1 when a turn with `input` tokens fits in the key's limits (or it has none): over a row of `stateColumns`;
    /// `extraAnswer` as in `RateWindowSQL.admits`.
    static func admits(input: String, extraAnswer: String? = nil) -> String {
        RateWindowSQL.admits(input: input, prefix: "key_", extraAnswer: extraAnswer)
    }

    /// The key's limits and use as one text, as `RateWindowSQL.packedState` (`NULL` without limits).
    static let packedState = RateWindowSQL.packedState(prefix: "key_")
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

/// A key's changed terms (`APIKey.Changes`) as the `api_keys` columns they set, in a fixed order: both stores build
/// `UPDATE api_keys SET <column> = <value>, …` from these (the names are ours, the values bound).
enum KeyChangeColumns {
    enum Value {
        case integer(Int?)
        case text(String?)
    }

    static func columns(_ changes: APIKey.Changes) -> [(name: String, value: Value)] {
        var columns: [(String, Value)] = []
        if let expiresAt = changes.expiresAt { columns.append(("expires_at", .integer(expiresAt.map(StoredValues.milliseconds)))) }
        if let models = changes.allowedModels { columns.append(("allowed_models", .text(models.map(StoredValues.encodeModels)))) }
        if let daily = changes.dailyDollarLimit {
            columns.append(("daily_usd_limit_picousd", .integer(daily.map { Int($0.picodollars) })))
        }
        if let rpm = changes.requestsPerMinute { columns.append(("requests_per_minute", .integer(rpm))) }
        if let tpm = changes.tokensPerMinute { columns.append(("tokens_per_minute", .integer(tpm))) }
        if let parallel = changes.maxParallel { columns.append(("max_parallel_requests", .integer(parallel))) }
        if let tags = changes.tags { columns.append(("tags", .text(StoredValues.tagsJSON(tags)))) }
        return columns
    }
}
