import SluiceCore

extension Migrations {
    /// Step 61: each user's security log (`SecurityLogStore`): sign-ins and refused ones, password and two-step
    /// changes, browsers signed out — when (milliseconds), from where (`User-Agent`, address) and a few words more.
    /// Forgotten after `SecurityLog.retention`; a deleted user's goes with them.
    static let securityLogStep = Step(
        version: 61,
        statements: [
            """
            CREATE TABLE security_events (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                kind TEXT NOT NULL,
                at INTEGER NOT NULL,
                user_agent TEXT,
                address TEXT,
                detail TEXT
            )
            """,
            "CREATE INDEX security_events_by_user ON security_events(user_id, at)",
        ])
}

extension StoredValues {
    /// An event of a kind this build does not know (written by a newer one) reads as a refused sign-in, the kind that
    /// asks a user to look twice, rather than being dropped.
    static func securityEvent(_ row: some StoredRow) -> SecurityEvent {
        SecurityEvent(
            id: row.text("id"), userID: row.text("user_id"), kind: SecurityEvent.Kind(rawValue: row.text("kind")) ?? .signInRefused,
            at: row.date("at"), origin: SessionOrigin(userAgent: row.string("user_agent"), address: row.string("address")),
            detail: row.string("detail"))
    }
}
