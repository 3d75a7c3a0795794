import Foundation
import SluiceCore

extension Migrations {
    /// Step 32: what the user thought of an answer (`AnswerFeedback`): `good` or `bad`, a comment, and when.
    static let feedbackStep = Step(
        version: 32,
        statements: [
            "ALTER TABLE messages ADD COLUMN feedback TEXT",
            "ALTER TABLE messages ADD COLUMN feedback_comment TEXT",
            "ALTER TABLE messages ADD COLUMN feedback_at INTEGER",
        ])
}

extension StoredValues {
    /// A message row's feedback (schema step 32), when it has one.
    static func feedback(_ row: some StoredRow) -> AnswerFeedback? {
        guard let rating = row.string("feedback").flatMap(AnswerFeedback.Rating.init(rawValue:)) else { return nil }
        return AnswerFeedback(rating: rating, comment: row.string("feedback_comment"), at: date(milliseconds: row.int("feedback_at")))
    }
}
