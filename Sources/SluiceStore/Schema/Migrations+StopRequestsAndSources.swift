extension Migrations {
    /// Step 49: a user's stop for an answer that another instance on the same PostgreSQL is writing
    /// (`StopRequestStore`). The instance that got the stop inserts a row and notifies; the writing instance takes its
    /// rows (deleting them) and stops those generations. PostgreSQL only: one process owns an SQLite file, and its
    /// generations are all in that process.
    static let stopRequestsStep = Step(
        version: 49,
        statements: [],
        postgresOnly: [
            """
            CREATE TABLE stop_requests (
                message_id TEXT PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
                requested_at BIGINT NOT NULL
            )
            """
        ])
}

extension Migrations {
    /// Step 50: an answer's sources — the parts of its project's files it was sent as excerpts (`ExcerptSource`, as
    /// JSON; `NULL` when none).
    static let answerSourcesStep = Step(version: 50, statements: ["ALTER TABLE messages ADD COLUMN sources TEXT"])

    /// Step 51: PostgreSQL's `sluice_hold` locks the user's limits row only when something limits the hold — a token
    /// or dollar limit of the user or of their end users, rate limits, the key's limits, the service's daily dollars.
    /// Without any, every hold is granted in full whatever the others hold, so the lock kept nothing from being
    /// overspent, while it made all holds of one busy user wait for each other from their first statement to their
    /// commit: measured with `pgbench` on a user without limits, 1 100 holds a second from 10 clients with the lock,
    /// 2 200 without it (docs/benchmarks.md). The counts the hold keeps (`tokens_held`, the day's spending) are
    /// still updated in place, each update locking its row to the commit, so they stay exact. A limit set while
    /// such holds run applies from the holds that start after it, as if those already running had come first.
    static let unlockedHoldsStep = Step(
        version: 51,
        statements: [],
        postgresOnly: [
            holdFunction(
                limitingEndUsers: true, limitingRates: true, recordingKeys: true, limitingKeyRates: true, namingEndUsers: true,
                lockingOnlyLimits: true),
        ])
}
