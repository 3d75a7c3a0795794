extension Migrations {
    /// Step 16: a conversation remembers the end user the gateway's caller named (OpenAI's `user` field), so that a
    /// service sending many people's chats under one Sluice token can see its usage per person
    /// (`UsageGrouping.endUser`). No index: usage history reaches conversations by their primary key.
    static let endUserStep = Step(
        version: 16,
        statements: ["ALTER TABLE conversations ADD COLUMN end_user TEXT"])
}
