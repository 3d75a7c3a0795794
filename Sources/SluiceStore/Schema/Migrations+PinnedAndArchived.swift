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
