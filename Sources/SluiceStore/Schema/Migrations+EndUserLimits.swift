import Foundation

extension Migrations {
    /// Step 18: a user (a service sending its own customers' chats through the gateway) may limit what each of its
    /// end users spends a day, as LiteLLM's end-user budgets do. The limit is on the user's limits row; a hold for a
    /// conversation that names an end user also fits under it. An end user's day is summed from the ledger (the
    /// partial index holds only rows with an end user, so turns without one pay nothing for it): a day of one end
    /// user is a few hundred rows, not the hundred thousand of a whole service that step 15 counts instead.
    static let endUserLimitsStep = Step(
        version: 18,
        statements: [
            "ALTER TABLE user_token_limits ADD COLUMN end_user_daily_usd_limit_picousd INTEGER",
            "CREATE INDEX token_usage_by_end_user ON token_usage(user_id, end_user, created_at) WHERE end_user IS NOT NULL",
        ],
        postgresOnly: [holdFunction(limitingEndUsers: true, limitingRates: false)])
}

/// What one end user of a user has spent today, as SQL over the ledger (schema steps 17 and 18): settled costs plus
/// the costs reserved by live holds, by the day a hold was made, as `DailySpendingSQL` counts a user's.
enum EndUserSpendingSQL {
    /// The end user's dollars left under `limit` (picodollars; all SQL expressions), or a number larger than any
    /// budget when there is no limit or no end user.
    static func left(limit: String, user: String, endUser: String, now: String, dayStart: String) -> String {
        """
        (CASE WHEN \(limit) IS NULL OR \(endUser) IS NULL THEN 9000000000000000000
            ELSE \(limit) - \(spent(user: user, endUser: endUser, now: now, dayStart: dayStart)) END)
        """
    }

    /// The end user's spending today (0 for none).
    static func spent(user: String, endUser: String, now: String, dayStart: String) -> String {
        """
        COALESCE((SELECT CAST(SUM(CASE WHEN u.state = 'settled' THEN u.cost_picousd
                    WHEN u.state = 'held' AND u.expires_at > \(now) THEN u.reserved_cost_picousd ELSE 0 END) AS BIGINT)
                FROM token_usage u WHERE u.user_id = \(user) AND u.end_user = \(endUser) AND u.created_at >= \(dayStart)), 0)
        """
    }
}
