extension Migrations {
    /// Step 45: a user's projects (`Project`: ChatGPT's Projects, Open WebUI's folders), each with instructions and
    /// text files (`ProjectFile`) of its own, and the project a conversation is in. Deleting a project keeps its
    /// conversations: the stores clear their `project_id` in the same transaction (a plain column, no foreign key:
    /// SQLite cannot drop a column that has one, which the migration tests do to go back to older schemas).
    static let projectsStep = Step(
        version: 45,
        statements: [
            """
            CREATE TABLE projects (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                instructions TEXT,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL
            )
            """,
            "CREATE INDEX projects_by_user ON projects(user_id, updated_at DESC)",
            """
            CREATE TABLE project_files (
                id TEXT PRIMARY KEY,
                project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                text TEXT NOT NULL,
                created_at INTEGER NOT NULL
            )
            """,
            "CREATE INDEX project_files_by_project ON project_files(project_id, created_at)",
            "ALTER TABLE conversations ADD COLUMN project_id TEXT",
            "CREATE INDEX conversations_by_project ON conversations(project_id)",
        ])
}

extension StoredValues {
    /// How many listed conversations (not archived, kept) each of a user's projects holds: columns `project_id`,
    /// `count`; `placeholder` binds the user's id.
    static func projectConversationCounts(userID placeholder: String) -> String {
        """
        SELECT project_id, COUNT(*) AS count FROM conversations
        WHERE user_id = \(placeholder) AND project_id IS NOT NULL AND archived_at IS NULL AND \(keptOnly("conversations"))
        GROUP BY project_id
        """
    }
}
