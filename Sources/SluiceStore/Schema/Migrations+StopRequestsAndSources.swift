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
}
