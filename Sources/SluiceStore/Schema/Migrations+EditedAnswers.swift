extension Migrations {
    /// Step 43: when the user last rewrote an answer's text (`Message.editedAt`); `NULL` for an answer as the model
    /// wrote it.
    static let editedAnswersStep = Step(version: 43, statements: ["ALTER TABLE messages ADD COLUMN edited_at INTEGER"])
}
