extension Migrations {
    /// Step 52: a call for several answers (OpenAI's `n`) is one request. Each answer is held on its own (its own
    /// conversation, upstream call and charge), and the ledger marks those after the first (`extra_answer = 1`):
    /// they count in the tokens per minute but not as requests per minute nor as running requests, so a key allowed
    /// two requests at once may ask for three answers, as OpenAI and LiteLLM count it (`RateWindowSQL`,
    /// `HoldRequest.extraAnswer`). PostgreSQL's `sluice_hold` takes the mark as its last argument — a new argument
    /// list is a new function, so step 36's is dropped.
    static let extraAnswersStep = Step(
        version: 52,
        statements: ["ALTER TABLE token_usage ADD COLUMN extra_answer INTEGER NOT NULL DEFAULT 0"],
        postgresOnly: [
            "DROP FUNCTION sluice_hold(\(holdArgumentTypes), TEXT, BIGINT, BIGINT, BIGINT, BIGINT, TEXT)",
            holdFunction(
                limitingEndUsers: true, limitingRates: true, recordingKeys: true, limitingKeyRates: true, namingEndUsers: true,
                countingCalls: true),
        ])
}
