extension Migrations {
    /// Step 53: administrators, who manage the other users from the web app (Open WebUI's admin panel, LiteLLM's
    /// admin UI) as `sluice user` does from a shell. The first user there is is one — the `local` user
    /// `sluice serve` makes on its first start, or whoever `sluice user add` made first — as Open WebUI makes its
    /// first sign-up the admin; `sluice user admin NAME` names more.
    static let adminsStep = Step(
        version: 53,
        statements: [
            "ALTER TABLE users ADD COLUMN is_admin INTEGER NOT NULL DEFAULT 0",
            "UPDATE users SET is_admin = 1 WHERE id = (SELECT id FROM users ORDER BY created_at, id LIMIT 1)",
        ])
}
