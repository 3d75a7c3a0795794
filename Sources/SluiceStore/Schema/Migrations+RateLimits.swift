import Foundation

extension Migrations {
    /// Step 19: a user may be limited in requests and tokens per minute, as OpenAI's and LiteLLM's keys are (RPM and
    /// TPM), and in answers running at once (LiteLLM's `max_parallel_requests`): budgets say how much a user may
    /// spend in a period, these keep one user's burst from taking the upstream's capacity from everyone else. The
    /// hold enforces them from the ledger (`RateWindowSQL`), in the same atomic step as the budget — under the
    /// user's row lock on PostgreSQL, so several instances share them. The last 60 seconds are read through
    /// `token_usage_by_user (user_id, created_at)` (step 4), running turns through the partial index of held rows
    /// (step 14), and only for a user with such a limit.
    static let rateLimitsStep = Step(
        version: 19,
        statements: [
            "ALTER TABLE user_token_limits ADD COLUMN requests_per_minute INTEGER",
            "ALTER TABLE user_token_limits ADD COLUMN tokens_per_minute INTEGER",
            "ALTER TABLE user_token_limits ADD COLUMN max_parallel_requests INTEGER",
        ],
        // The function now also returns the limits' use (`rate_state`): a new result type needs a new function.
        postgresOnly: [
            "DROP FUNCTION sluice_hold(\(holdArgumentTypes))",
            holdFunction(limitingEndUsers: true, limitingRates: true),
        ])

    /// `sluice_hold`'s argument types, which name it for `DROP FUNCTION`.
    static let holdArgumentTypes = (Array(repeating: "TEXT", count: 5) + Array(repeating: "BIGINT", count: 9)).joined(separator: ", ")
}

/// A user's last minute and running turns, as SQL over the ledger (schema step 19): a request is a ledger row made in
/// the window (a refused hold makes none), and its tokens are what it used once settled, what it holds while it
/// runs, nothing once released or expired; a running turn is a live hold. From schema step 52 (`callsOnly`) the
/// answers after the first of a call for several (`n`; `extra_answer = 1`) count in the tokens only: a request and a
/// running request are the call's, as OpenAI and LiteLLM count them. Both databases run these as written.
enum RateWindowSQL {
    /// The condition that leaves out an `n` call's answers after the first, to add to a condition on `u`.
    static let callsCondition = " AND u.extra_answer = 0"

    /// The window's length in milliseconds.
    static let windowMs = 60_000

    /// 1 when a turn with `input` tokens (and one output token) fits in the user's rate limits, or the user has none,
    /// else 0: an expression over a row of `stateColumns` (unqualified), `input` an SQL expression. With `prefix`
    /// `key_`, the same over a key's columns (`KeyRateSQL.stateColumns`). With `extraAnswer` (an SQL expression, 1
    /// for an `n` call's answer after the first; schema step 52) such an answer is held to the tokens per minute
    /// only: its call is one request, counted by its first answer.
    static func admits(input: String, prefix p: String = "", extraAnswer: String? = nil) -> String {
        let request = extraAnswer.map { "\($0) = 0 AND " } ?? ""
        return """
        (CASE WHEN \(request)\(p)max_parallel_requests IS NOT NULL AND \(p)running_requests >= \(p)max_parallel_requests THEN 0
            WHEN \(request)\(p)requests_per_minute IS NOT NULL AND \(p)minute_requests >= \(p)requests_per_minute THEN 0
            WHEN \(p)tokens_per_minute IS NOT NULL AND \(p)minute_tokens + \(input) + 1 > \(p)tokens_per_minute THEN 0
            ELSE 1 END)
        """
    }

    /// A row of `stateColumns` as one text (`NULL` without rate limits), for a hold to return: the seven values in
    /// their order, comma-separated, empty for `NULL` (`StoredValues.rateLimits(packed:…)` reads it).
    static let packedState = packedState(prefix: "")

    /// `packedState` over columns whose names begin with `prefix` (`key_`: `KeyRateSQL.stateColumns`).
    static func packedState(prefix p: String) -> String {
        """
        CASE WHEN \(p)requests_per_minute IS NULL AND \(p)tokens_per_minute IS NULL AND \(p)max_parallel_requests IS NULL THEN NULL
            ELSE \(stateNames.map { "COALESCE(CAST(\(p)\($0) AS TEXT), '')" }.joined(separator: " || ',' || ")) END
        """
    }

    /// `stateColumns`' names, in their order.
    static let stateNames = [
        "requests_per_minute", "tokens_per_minute", "max_parallel_requests", "running_requests", "minute_requests",
        "minute_tokens", "minute_oldest",
    ]

    /// The requests in the window of the ledger's rows that `rows` (a condition on `u`) picks.
    static func requests(of rows: String, now: String) -> String {
        "(SELECT COUNT(*) FROM token_usage u WHERE \(rows) AND u.created_at > \(now) - \(windowMs))"
    }

    /// The turns running now among the rows that `rows` picks.
    static func running(of rows: String, now: String) -> String {
        "(SELECT COUNT(*) FROM token_usage u WHERE \(rows) AND u.state = 'held' AND u.expires_at > \(now))"
    }

    /// The tokens in the window of the rows that `rows` picks.
    static func tokens(of rows: String, now: String) -> String {
        """
        COALESCE((SELECT CAST(SUM(CASE WHEN u.state = 'settled' THEN u.total_tokens
                    WHEN u.state = 'held' AND u.expires_at > \(now) THEN u.reserved_tokens ELSE 0 END) AS BIGINT)
                FROM token_usage u WHERE \(rows) AND u.created_at > \(now) - \(windowMs)), 0)
        """
    }

    /// When the window's oldest request of the rows that `rows` picks leaves it.
    static func oldest(of rows: String, now: String) -> String {
        "(SELECT MIN(u.created_at) FROM token_usage u WHERE \(rows) AND u.created_at > \(now) - \(windowMs))"
    }

    /// A user's rate limits and their use now, as columns (`stateNames`) of a query over the user's limits row
    /// `limits`: the limits, and only where one is set, the window's or the running turns' counts (0 or `NULL`
    /// otherwise). A user without limits reads nothing but the row (CASE is the one construct both databases
    /// evaluate in order). `callsOnly`: requests are calls (schema step 52; the steps before it kept as written).
    static func stateColumns(limits l: String, now: String, callsOnly: Bool = false) -> String {
        let user = "u.user_id = \(l).user_id"
        let calls = user + (callsOnly ? callsCondition : "")
        return """
        \(l).requests_per_minute, \(l).tokens_per_minute, \(l).max_parallel_requests,
            (CASE WHEN \(l).max_parallel_requests IS NULL THEN 0 ELSE \(running(of: calls, now: now)) END) AS running_requests,
            (CASE WHEN \(l).requests_per_minute IS NULL AND \(l).tokens_per_minute IS NULL THEN 0 ELSE \(requests(of: calls, now: now)) END) AS minute_requests,
            (CASE WHEN \(l).tokens_per_minute IS NULL THEN 0 ELSE \(tokens(of: user, now: now)) END) AS minute_tokens,
            (CASE WHEN \(l).requests_per_minute IS NULL AND \(l).tokens_per_minute IS NULL THEN NULL ELSE \(oldest(of: user, now: now)) END) AS minute_oldest
        """
    }
}
