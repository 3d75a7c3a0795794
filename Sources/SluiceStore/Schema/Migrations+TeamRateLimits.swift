import SluiceCore

extension Migrations {
    /// Step 63: a team may be limited in requests and tokens per minute and in answers running at once, counted over
    /// all its members together (LiteLLM's team `rpm_limit`, `tpm_limit`, `max_parallel_requests`): a member's own
    /// limits keep one person's burst in bounds, a team's keep one group's from taking an upstream's capacity from
    /// the others. The hold enforces them from the ledger (`TeamRateSQL`), in the same atomic step as the rest — on
    /// PostgreSQL under the team's row lock, which `sluice_hold` already takes (step 62), so several instances share
    /// them. A team's last minute is read through a partial index of the rows made under a team that covers what the
    /// window counts (a busy team's minute is read from the index alone: 1 400 requests in it cost a hold 315 µs on
    /// SQLite instead of 415; docs/benchmarks.md), its running answers through one of its live holds: a turn outside
    /// any team writes no page more for either.
    static let teamRateLimitsStep = Step(
        version: 63,
        statements: [
            "ALTER TABLE teams ADD COLUMN requests_per_minute INTEGER",
            "ALTER TABLE teams ADD COLUMN tokens_per_minute INTEGER",
            "ALTER TABLE teams ADD COLUMN max_parallel_requests INTEGER",
            """
            CREATE INDEX token_usage_by_team
                ON token_usage(team_id, created_at, extra_answer, state, total_tokens, reserved_tokens, expires_at)
                WHERE team_id IS NOT NULL
            """,
            "CREATE INDEX token_usage_held_by_team ON token_usage(team_id, expires_at) WHERE state = 'held' AND team_id IS NOT NULL",
        ],
        // The function's arguments and result stay; its budget reads the team's row beside the user's.
        postgresOnly: [
            holdFunction(
                limitingEndUsers: true, limitingRates: true, recordingKeys: true, limitingKeyRates: true, namingEndUsers: true,
                countingCalls: true, limitingTeams: true, limitingTeamRates: true),
        ])
}

/// A team's rate limits and their use, as SQL over the ledger (schema step 63): `RateWindowSQL`'s window and running
/// turns, counted over every row made under the team. `team` is the alias of a `teams` row that may be all `NULL`
/// (a user in no team, by a `LEFT JOIN`): without a limit of a kind nothing is read for it. Both databases run these
/// as written.
enum TeamRateSQL {
    /// The limits and their use as columns named as `RateWindowSQL.stateNames` with `team_` before each; requests
    /// are calls (`RateWindowSQL.callsCondition`).
    static func stateColumns(team t: String, now: String) -> String {
        let calls = RateWindowSQL.callsCondition
        // Running turns through `token_usage_held_by_team`, the window through `token_usage_by_team`.
        let rows = "u.team_id = \(t).id"
        return """
            \(t).requests_per_minute AS team_requests_per_minute, \(t).tokens_per_minute AS team_tokens_per_minute,
                \(t).max_parallel_requests AS team_max_parallel_requests,
                (CASE WHEN \(t).max_parallel_requests IS NULL THEN 0 ELSE \(RateWindowSQL.running(of: rows + calls, now: now)) END) AS team_running_requests,
                (CASE WHEN \(t).requests_per_minute IS NULL AND \(t).tokens_per_minute IS NULL THEN 0 ELSE \(RateWindowSQL.requests(of: rows + calls, now: now)) END) AS team_minute_requests,
                (CASE WHEN \(t).tokens_per_minute IS NULL THEN 0 ELSE \(RateWindowSQL.tokens(of: rows, now: now)) END) AS team_minute_tokens,
                (CASE WHEN \(t).requests_per_minute IS NULL AND \(t).tokens_per_minute IS NULL THEN NULL ELSE \(RateWindowSQL.oldest(of: rows, now: now)) END) AS team_minute_oldest
            """
    }

    /// 1 when a turn with `input` tokens fits in the team's limits (or it has none or no team): over a row of
    /// `stateColumns`; `extraAnswer` as in `RateWindowSQL.admits`.
    static func admits(input: String, extraAnswer: String) -> String {
        RateWindowSQL.admits(input: input, prefix: "team_", extraAnswer: extraAnswer)
    }
}
