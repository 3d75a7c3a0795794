extension Migrations {
    /// Step 51: a conversation's own sampling settings (`ConversationParameters`, as JSON; `NULL` when none).
    static let conversationParametersStep = Step(version: 51, statements: ["ALTER TABLE conversations ADD COLUMN parameters TEXT"])
}
