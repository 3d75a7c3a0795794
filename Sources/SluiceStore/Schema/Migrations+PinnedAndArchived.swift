import Foundation

extension Migrations {
    /// Step 30: a conversation can be pinned to the top of its user's list and archived out of it, as ChatGPT's and
    /// Open WebUI's can (moments in milliseconds; `NULL` when it is not). The list reads them with the user's index.
    static let pinnedAndArchivedStep = Step(
        version: 30,
        statements: [
            "ALTER TABLE conversations ADD COLUMN pinned_at INTEGER",
            "ALTER TABLE conversations ADD COLUMN archived_at INTEGER",
        ])
}

extension StoredValues {
    /// The `WHERE` condition and `ORDER BY` of a user's conversation list (`conversations(userID:archived:)`), over
    /// `conversations` with its tie-breaking column `last` (SQLite's `rowid`, PostgreSQL's `seq`).
    static func conversationList(archived: Bool, last: String) -> (condition: String, order: String) {
        // Since step 37 the conversations not to be kept (a `store: false` turn's, while it runs) are left out.
        archived
            ? ("archived_at IS NOT NULL AND \(keptOnly("conversations"))", "archived_at DESC, \(last) DESC")
            : ("archived_at IS NULL AND \(keptOnly("conversations"))", "(pinned_at IS NULL), updated_at DESC, \(last) DESC")
    }
}
