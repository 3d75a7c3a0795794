extension Migrations {
    /// Step 46: the prompts each user keeps to reuse (`SavedPrompt`: Open WebUI's prompt library, `/command` in the
    /// message box), one command per user.
    static let savedPromptsStep = Step(
        version: 46,
        statements: [
            """
            CREATE TABLE saved_prompts (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                command TEXT NOT NULL,
                title TEXT NOT NULL,
                content TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                UNIQUE (user_id, command)
            )
            """
        ])
}
