extension Migrations {
    /// Step 44: whether the web app names a user's conversations by itself after their first answer (Open WebUI's
    /// "Title Auto-Generation" setting); 1 (on) for every user until they turn it off.
    static let autoTitlesStep = Step(version: 44, statements: ["ALTER TABLE users ADD COLUMN auto_titles INTEGER NOT NULL DEFAULT 1"])
}
