import SluiceCore

extension Migrations {
    /// Step 56: signing in with a name and password (Open WebUI's sign-in form), besides the token link.
    /// `users.password_hash` is the password's bcrypt hash (`NULL`: none set, only the token signs in); each sign-in
    /// makes a session, a bearer token of its own stored as its SHA-256 hash like every other, so that signing out
    /// in one browser ends that browser's session only and a changed password ends the others. `expires_at` is
    /// milliseconds since 1970; an expired session is refused by the credential query and removed by the next
    /// sign-in of its user.
    static let signInStep = Step(
        version: 56,
        statements: [
            "ALTER TABLE users ADD COLUMN password_hash TEXT",
            """
            CREATE TABLE sessions (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                token_hash TEXT NOT NULL UNIQUE,
                created_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL
            )
            """,
            "CREATE INDEX sessions_by_user ON sessions(user_id)",
        ])
}

extension Migrations {
    /// Step 57: a user who made their own account (`POST /api/sign-up`, `serve --sign-up approval`) and waits for an
    /// administrator to approve it, as Open WebUI's pending users do: 1 while waiting, with `suspended_at` set, so that
    /// everything that refuses a suspended user refuses them; restoring the user approves them.
    static let pendingUsersStep = Step(
        version: 57,
        statements: ["ALTER TABLE users ADD COLUMN pending INTEGER NOT NULL DEFAULT 0"])
}

extension Migrations {
    /// Step 58: where each session was signed in from — the browser's `User-Agent` and the client's address — and when
    /// it was last used (milliseconds; `NULL` for sessions older than the step), so that the user's list of signed-in
    /// browsers tells them apart and shows a sign-in they do not know, or one long unused.
    static let sessionOriginsStep = Step(
        version: 58,
        statements: [
            "ALTER TABLE sessions ADD COLUMN user_agent TEXT", "ALTER TABLE sessions ADD COLUMN address TEXT",
            "ALTER TABLE sessions ADD COLUMN last_active_at INTEGER",
        ])
}

extension Migrations {
    /// Step 59: the sign-in's limits in the database rather than in each instance's memory, so that several instances
    /// behind a balancer allow 5 wrong passwords for a name between them, not 5 each: one row per attempt (`kind`
    /// `name`, `address` or `sign-up`; `key` the lowercased name or the address; `at` in milliseconds), forgotten once
    /// older than its limit's window.
    static let signInAttemptsStep = Step(
        version: 59,
        statements: [
            "CREATE TABLE sign_in_attempts (kind TEXT NOT NULL, key TEXT NOT NULL, at INTEGER NOT NULL)",
            "CREATE INDEX sign_in_attempts_by_key ON sign_in_attempts(kind, key, at)",
            "CREATE INDEX sign_in_attempts_by_time ON sign_in_attempts(kind, at)",
        ])
}

extension StoredValues {
    static func session(_ row: some StoredRow) -> SignInSession {
        SignInSession(
            id: row.text("id"), tokenHash: row.text("token_hash"),
            origin: SessionOrigin(userAgent: row.string("user_agent"), address: row.string("address")),
            createdAt: row.date("created_at"), lastActiveAt: row.date(row.int("last_active_at") == nil ? "created_at" : "last_active_at"),
            expiresAt: row.date("expires_at"))
    }
}
