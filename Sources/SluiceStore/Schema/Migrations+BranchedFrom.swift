extension Migrations {
    /// Step 47: the conversation a branch was made from (`Conversation.branchedFrom`, "Branch in new chat"), for the
    /// branch's "Branched from …" link; a plain id, left as it is when the original is deleted (the link then goes).
    static let branchedFromStep = Step(version: 47, statements: ["ALTER TABLE conversations ADD COLUMN branched_from TEXT"])
}
