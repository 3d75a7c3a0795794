extension Migrations {
    /// Step 16: a conversation remembers the end user the gateway's caller named (OpenAI's `user` field), so that a
    /// service sending many people's chats under one Sluice token can see its usage per person
    /// (`UsageGrouping.endUser`). No index: usage history reaches conversations by their primary key.
    static let endUserStep = Step(
        version: 16,
        statements: ["ALTER TABLE conversations ADD COLUMN end_user TEXT"])
}

extension Migrations {
    /// Step 17: each ledger row keeps the end user its conversation had when the turn was held, so that usage per end
    /// user survives the conversation's deletion (by conversation, the turns keep their id and lose only the title)
    /// and is summed from the ledger alone. Rows from before are filled from their conversations where these still
    /// exist. SQLite's hold statement reads the conversation's end user itself; on PostgreSQL, whose hold is the
    /// `sluice_hold` function, a trigger fills the column from the conversation (the turn's message, with its
    /// conversation, is committed before the hold).
    static let endUserLedgerStep = Step(
        version: 17,
        statements: [
            "ALTER TABLE token_usage ADD COLUMN end_user TEXT",
            """
            UPDATE token_usage SET end_user = (SELECT c.end_user FROM conversations c WHERE c.id = token_usage.conversation_id)
            WHERE conversation_id IN (SELECT id FROM conversations WHERE end_user IS NOT NULL)
            """,
        ],
        postgresOnly: [
            """
            CREATE OR REPLACE FUNCTION sluice_usage_end_user() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                NEW.end_user := (SELECT c.end_user FROM conversations c WHERE c.id = NEW.conversation_id);
                RETURN NEW;
            END
            $$
            """,
            """
            CREATE TRIGGER token_usage_end_user BEFORE INSERT ON token_usage
            FOR EACH ROW WHEN (NEW.end_user IS NULL) EXECUTE FUNCTION sluice_usage_end_user()
            """,
        ])
}
