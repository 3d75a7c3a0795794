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
    /// `ratedAnswers`' query in both dialects: `since`, `rating` (or NULL) and `limit` are its three parameters,
    /// written by the caller's placeholders.
    static func ratedAnswersSQL(since: String, rating: String, limit: String) -> String {
        """
        SELECT a.*, u.name AS user_name,
            (SELECT q.content FROM messages q WHERE q.conversation_id = a.conversation_id AND q.role = 'user'
                AND q.created_at <= a.created_at ORDER BY q.created_at DESC LIMIT 1) AS question
        FROM messages a JOIN conversations c ON c.id = a.conversation_id JOIN users u ON u.id = c.user_id
        WHERE a.feedback IS NOT NULL AND a.feedback_at >= \(since) AND (\(rating) IS NULL OR a.feedback = \(rating))
        ORDER BY a.feedback_at DESC LIMIT \(limit)
        """
    }

    /// A row of `ratedAnswersSQL`.
    static func ratedAnswer(_ row: some StoredRow) -> RatedAnswer? {
        let answer = message(row)
        guard let feedback = answer.feedback else { return nil }
        return RatedAnswer(
            messageID: answer.id, conversationID: answer.conversationID, userName: row.text("user_name"),
            model: answer.model, feedback: feedback, question: row.string("question"), answer: answer.content)
    }

    /// A message row's feedback (schema step 32), when it has one.
    static func feedback(_ row: some StoredRow) -> AnswerFeedback? {
        guard let rating = row.string("feedback").flatMap(AnswerFeedback.Rating.init(rawValue:)) else { return nil }
        return AnswerFeedback(rating: rating, comment: row.string("feedback_comment"), at: date(milliseconds: row.int("feedback_at")))
    }
}
