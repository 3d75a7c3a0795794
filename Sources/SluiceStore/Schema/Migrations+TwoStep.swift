import SluiceCore

extension Migrations {
    /// Step 60: two-step verification for the password sign-in (`TwoStepStore`). `two_step` holds the user's
    /// authenticator secret (base32), when it was turned on (milliseconds; `NULL` while the secret waits for its first
    /// code) and the last time step whose code was taken, which a code must pass — one `UPDATE … WHERE last_step < ?`
    /// — so that a code works once across instances. `recovery_codes` holds the SHA-256 hashes of the unused recovery
    /// codes; taking one deletes it.
    static let twoStepStep = Step(
        version: 60,
        statements: [
            """
            CREATE TABLE two_step (
                user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
                secret TEXT NOT NULL,
                enabled_at INTEGER,
                last_step INTEGER NOT NULL DEFAULT 0
            )
            """,
            """
            CREATE TABLE recovery_codes (
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                code_hash TEXT NOT NULL,
                PRIMARY KEY (user_id, code_hash)
            )
            """,
        ])
}

extension StoredValues {
    static func twoStep(_ row: some StoredRow) -> TwoStepState {
        TwoStepState(
            secret: row.text("secret"), enabledAt: row.int("enabled_at").map { date(milliseconds: $0) },
            lastStep: Int64(row.int("last_step") ?? 0), recoveryCodesLeft: row.int("codes_left") ?? 0)
    }
}
