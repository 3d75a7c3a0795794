import Foundation

extension Migrations {
    /// Step 37: the conversations of turns that are not to be kept (the Responses API's `store: false`). The route
    /// deletes such a conversation once its turn is settled; a row here, written before the conversation exists (so no
    /// foreign key), lets recovery delete one that an instance left behind when it died mid-turn, and keeps it out of
    /// the user's list and search meanwhile.
    static let unkeptConversationsStep = Step(
        version: 37,
        statements: [
            """
            CREATE TABLE unkept_conversations (
                conversation_id TEXT PRIMARY KEY,
                created_at INTEGER NOT NULL
            )
            """,
        ])
}

extension StoredValues {
    /// Leaves out of a list the conversations not to be kept; `table` names `conversations` in the query.
    static func keptOnly(_ table: String) -> String {
        "NOT EXISTS (SELECT 1 FROM unkept_conversations u WHERE u.conversation_id = \(table).id)"
    }

    /// How long an unkept conversation's marker outlives any turn: recovery deletes older ones with their conversation.
    static let unkeptLifetime: TimeInterval = 3600
}
