import Foundation
import SluiceCore

/// Context management: per-message modes and each conversation's running summary.
extension SQLiteStore {
    public func setContextMode(messageID: String, mode: ContextMode) async throws {
        let rows = try await connection.query(
            "UPDATE messages SET context_mode = ? WHERE id = ? RETURNING id", [.text(mode.rawValue), .text(messageID)])
        if rows.isEmpty { throw StoreError.notFound }
    }

    public func setFeedback(messageID: String, feedback: AnswerFeedback?) async throws {
        let rows = try await connection.query(
            "UPDATE messages SET feedback = ?, feedback_comment = ?, feedback_at = ? WHERE id = ? RETURNING id",
            [Self.optional(feedback?.rating.rawValue), Self.optional(feedback?.comment),
             Self.optional(feedback.map { Self.milliseconds($0.at) }), .text(messageID)])
        if rows.isEmpty { throw StoreError.notFound }
    }

    public func ratedAnswers(since: Date, rating: AnswerFeedback.Rating?, limit: Int) async throws -> [RatedAnswer] {
        try await connection.query(
            StoredValues.ratedAnswersSQL(since: "?1", rating: "?2", limit: "?3"),
            [.integer(Self.milliseconds(since)), Self.optional(rating?.rawValue), .integer(limit)]
        ).compactMap(StoredValues.ratedAnswer)
    }

    public func summary(conversationID: String) async throws -> ConversationSummary? {
        try await connection.query(
            "SELECT text, covered_ids, model, updated_at FROM conversation_summaries WHERE conversation_id = ?",
            [.text(conversationID)]
        ).first.map(StoredValues.summary)
    }

    public func saveSummary(conversationID: String, summary: ConversationSummary) async throws {
        _ = try await connection.query(
            """
            INSERT INTO conversation_summaries (conversation_id, text, covered_ids, model, updated_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (conversation_id) DO UPDATE SET text = excluded.text, covered_ids = excluded.covered_ids,
                model = excluded.model, updated_at = excluded.updated_at
            """,
            [
                .text(conversationID), .text(summary.text), .text(summary.coveredMessageIDs.joined(separator: ",")),
                Self.optional(summary.model), .integer(Self.milliseconds(summary.updatedAt)),
            ])
    }
}
