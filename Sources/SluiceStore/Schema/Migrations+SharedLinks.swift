import Foundation
import SluiceCore

extension Migrations {
    /// Step 42: conversations shared by link (`SharedLink`): one link per conversation, its copy of the thread as JSON,
    /// gone with the conversation.
    static let sharedLinksStep = Step(
        version: 42,
        statements: [
            """
            CREATE TABLE shared_links (
                token TEXT PRIMARY KEY,
                conversation_id TEXT NOT NULL UNIQUE REFERENCES conversations(id) ON DELETE CASCADE,
                snapshot TEXT NOT NULL,
                created_at INTEGER NOT NULL
            )
            """,
        ])
}

extension StoredValues {
    static func sharedLink(_ row: some StoredRow) -> SharedLink {
        SharedLink(
            token: row.text("token"), conversationID: row.text("conversation_id"), snapshot: row.text("snapshot"),
            sharedAt: row.date("created_at"))
    }
}
