extension Migrations {
    /// Step 68: what each user asked Sluice to remember across conversations (`Memory`, ChatGPT's saved memories),
    /// listed newest first by `memories_by_user`, whether their web conversations use them (`memory_enabled`, on by
    /// default), and on an answer what its question asked of them (`messages.memory`, a `MemoryNote` as JSON).
    static let memoriesStep = Step(
        version: 68,
        statements: [
            """
            CREATE TABLE memories (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                content TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL
            )
            """,
            "CREATE INDEX memories_by_user ON memories(user_id, created_at DESC)",
            "ALTER TABLE users ADD COLUMN memory_enabled INTEGER NOT NULL DEFAULT 1",
            "ALTER TABLE messages ADD COLUMN memory TEXT",
        ])
}
