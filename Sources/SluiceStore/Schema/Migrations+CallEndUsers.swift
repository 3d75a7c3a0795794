import Foundation

extension Migrations {
    /// Step 36: a hold may name its end user itself (`HoldRequest.endUser`): an embeddings call has no conversation to
    /// read one from, and without it the end user's daily limit did not hold for such calls nor did their cost count
    /// in the end user's day. SQLite's hold takes the name as a parameter; PostgreSQL's `sluice_hold` as its last
    /// argument — a new argument list is a new function, so step 27's is dropped.
    static let callEndUsersStep = Step(
        version: 36,
        statements: [],
        postgresOnly: [
            "DROP FUNCTION sluice_hold(\(holdArgumentTypes), TEXT, BIGINT, BIGINT, BIGINT, BIGINT)",
            holdFunction(
                limitingEndUsers: true, limitingRates: true, recordingKeys: true, limitingKeyRates: true, namingEndUsers: true),
        ])
}
