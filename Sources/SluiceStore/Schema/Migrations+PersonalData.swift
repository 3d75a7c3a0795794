extension Migrations {
    /// Step 70: what of an answer's question went upstream as placeholders — how many different personal details of
    /// each kind (`{"email": 1}`, JSON), for the answer's details after a reload; `NULL` when nothing was masked.
    static let personalDataStep = Step(
        version: 70,
        statements: ["ALTER TABLE messages ADD COLUMN personal_data_masked TEXT"])
}
