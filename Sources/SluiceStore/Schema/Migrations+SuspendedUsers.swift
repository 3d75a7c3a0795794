extension Migrations {
    /// Step 54: a user an administrator suspended (LiteLLM's blocked users, Open WebUI's pending role): their token and
    /// keys are refused with `403 account_suspended` until restored, and everything they made stays. Milliseconds
    /// since 1970 when it happened; `NULL`, not suspended.
    static let suspendedUsersStep = Step(
        version: 54,
        statements: ["ALTER TABLE users ADD COLUMN suspended_at BIGINT"])
}
