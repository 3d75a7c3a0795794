extension Migrations {
    /// Step 55: a user an administrator deleted. What they made goes (conversations with their messages and shared
    /// links, projects and their files, saved prompts, cached answers); what they spent stays, as LiteLLM keeps a
    /// deleted key's spend: their ledger rows, their keys (revoked, so usage per key keeps its labels) and the row
    /// itself, renamed `deleted-<id>` (the name is free again), its token unusable and marked here (milliseconds since
    /// 1970). Deleted users are left out of the user list.
    static let deletedUsersStep = Step(
        version: 55,
        statements: ["ALTER TABLE users ADD COLUMN deleted_at BIGINT"])

    /// A deleted user's name: this and the user's id.
    static let deletedNamePrefix = "deleted-"
}
