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
    /// The link with the token `$1`, unless its owner is suspended: a suspended account's links read nothing until
    /// it is restored, as a deactivated ChatGPT account's shared links stop.
    static let sharedLinkQuery = """
        SELECT s.* FROM shared_links s JOIN conversations c ON c.id = s.conversation_id JOIN users u ON u.id = c.user_id
        WHERE s.token = $1 AND u.suspended_at IS NULL
        """

    /// The user's links with their conversations' titles now, the most recently shared first (`$1` the user).
    static let sharedLinksQuery = """
        SELECT s.token, s.conversation_id, s.created_at, c.title FROM shared_links s
        JOIN conversations c ON c.id = s.conversation_id
        WHERE c.user_id = $1 ORDER BY s.created_at DESC, s.token
        """

    static func sharedLinkSummary(_ row: some StoredRow) -> SharedLinkSummary {
        SharedLinkSummary(
            token: row.text("token"), conversationID: row.text("conversation_id"), title: row.text("title"),
            sharedAt: row.date("created_at"))
    }

    static func sharedLink(_ row: some StoredRow) -> SharedLink {
        SharedLink(
            token: row.text("token"), conversationID: row.text("conversation_id"), snapshot: row.text("snapshot"),
            sharedAt: row.date("created_at"))
    }
}
