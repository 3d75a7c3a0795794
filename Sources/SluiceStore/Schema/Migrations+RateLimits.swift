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
        postgresOnly: [holdFunction(limitingEndUsers: true, limitingRates: true)])
}

/// A user's last minute and running turns, as SQL over the ledger (schema step 19): a request is a ledger row made in
/// the window (a refused hold makes none), and its tokens are what it used once settled, what it holds while it
/// runs, nothing once released or expired; a running turn is a live hold. Both databases run these as written.
enum RateWindowSQL {
    /// The window's length in milliseconds.
    static let windowMs = 60_000

    /// 1 when a turn with `input` tokens (and one output token) fits in the user's limits per minute, or the user has
    /// none, else 0. `limits` is the alias of the user's `user_token_limits` row; `now` and `input` are SQL expressions.
    /// A user without limits leaves at the first `WHEN`: neither database then reads the window (CASE is the one
    /// construct both evaluate in order).
    static func admits(limits l: String, now: String, input: String) -> String {
        """
        (CASE WHEN \(l).requests_per_minute IS NULL AND \(l).tokens_per_minute IS NULL AND \(l).max_parallel_requests IS NULL THEN 1
            WHEN \(l).max_parallel_requests IS NOT NULL AND \(running(user: "\(l).user_id", now: now)) >= \(l).max_parallel_requests THEN 0
            WHEN \(l).requests_per_minute IS NOT NULL AND \(requests(user: "\(l).user_id", now: now)) >= \(l).requests_per_minute THEN 0
            WHEN \(l).tokens_per_minute IS NOT NULL AND \(tokens(user: "\(l).user_id", now: now)) + \(input) + 1 > \(l).tokens_per_minute THEN 0
            ELSE 1 END)
        """
    }

    /// The user's requests in the window.
    static func requests(user: String, now: String) -> String {
        "(SELECT COUNT(*) FROM token_usage u WHERE u.user_id = \(user) AND u.created_at > \(now) - \(windowMs))"
    }

    /// The user's turns running now: live holds, through the partial index of held rows.
    static func running(user: String, now: String) -> String {
        "(SELECT COUNT(*) FROM token_usage u WHERE u.user_id = \(user) AND u.state = 'held' AND u.expires_at > \(now))"
    }

    /// The user's tokens in the window.
    static func tokens(user: String, now: String) -> String {
        """
        COALESCE((SELECT CAST(SUM(CASE WHEN u.state = 'settled' THEN u.total_tokens
                    WHEN u.state = 'held' AND u.expires_at > \(now) THEN u.reserved_tokens ELSE 0 END) AS BIGINT)
                FROM token_usage u WHERE u.user_id = \(user) AND u.created_at > \(now) - \(windowMs)), 0)
        """
    }

    /// When the window's oldest request leaves it (milliseconds; NULL for an empty window).
    static func oldest(user: String, now: String) -> String {
        "(SELECT MIN(u.created_at) FROM token_usage u WHERE u.user_id = \(user) AND u.created_at > \(now) - \(windowMs))"
    }

    /// `budget`'s columns for a user's rate limits: the limits, and when one is set, the window's use.
    static func budgetColumns(limits l: String, now: String) -> String {
        """
        \(l).requests_per_minute, \(l).tokens_per_minute, \(l).max_parallel_requests,
            (CASE WHEN \(l).max_parallel_requests IS NULL THEN 0 ELSE \(running(user: "\(l).user_id", now: now)) END) AS running_requests,
            (CASE WHEN \(l).requests_per_minute IS NULL AND \(l).tokens_per_minute IS NULL THEN 0 ELSE \(requests(user: "\(l).user_id", now: now)) END) AS minute_requests,
            (CASE WHEN \(l).tokens_per_minute IS NULL THEN 0 ELSE \(tokens(user: "\(l).user_id", now: now)) END) AS minute_tokens,
            (CASE WHEN \(l).requests_per_minute IS NULL AND \(l).tokens_per_minute IS NULL THEN NULL ELSE \(oldest(user: "\(l).user_id", now: now)) END) AS minute_oldest
        """
    }
}
