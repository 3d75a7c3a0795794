import Foundation

extension Migrations {
    /// Step 35: `messages.hidden_with`, the id of the question or answer version whose turns these were when another
    /// version took its place (`ConversationStore.addVersion`, `selectVersion`); choosing that version again brings
    /// them back into the thread. `NULL` for a message in the thread, and for an earlier version itself.
    static let branchesStep = Step(version: 35, statements: ["ALTER TABLE messages ADD COLUMN hidden_with TEXT"])
}
