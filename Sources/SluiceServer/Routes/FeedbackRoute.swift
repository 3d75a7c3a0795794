import Foundation
import Hummingbird
import SluiceCore

/// `PUT /api/messages/{id}/feedback` `{"rating": "good"|"bad", "comment"?}` → `200` with the feedback as stored, and
/// `DELETE /api/messages/{id}/feedback` → `204`: what the user thought of one of their answers (👍 / 👎, as ChatGPT
/// and Open WebUI ask). Counted per model in `sluice_answer_feedback_total`; kept on the message.
struct FeedbackRoute {
    let store: any ConversationStore
    let metrics: SluiceMetrics
    /// The longest comment: a few paragraphs, never a document.
    static let maxCommentLength = 2000

    func register(on api: RouterGroup<SluiceRequestContext>) {
        api.put("messages/:id/feedback", use: rate)
        api.delete("messages/:id/feedback", use: clear)
    }

    @Sendable func rate(_ request: Request, context: SluiceRequestContext) async throws -> WireFeedback {
        let message = try await ratedAnswer(context)
        let body = try await JSONObjectBody(request: request, context: context, allowEmpty: false)
        guard let rating = try body.optionalString("rating", maxLength: 10).flatMap(AnswerFeedback.Rating.init(rawValue:)) else {
            throw APIError.invalid("'rating' must be \"good\" or \"bad\".")
        }
        let comment = try body.optionalString("comment", maxLength: Self.maxCommentLength)?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let feedback = AnswerFeedback(rating: rating, comment: comment?.isEmpty == false ? comment : nil, at: Date())
        try await store.setFeedback(messageID: message.id, feedback: feedback)
        // A comment added to the same rating is not a second vote.
        if message.feedback?.rating != rating { metrics.answerRated(model: message.model ?? "", rating: rating) }
        return WireFeedback(feedback)
    }

    @Sendable func clear(_ request: Request, context: SluiceRequestContext) async throws -> HTTPResponse.Status {
        let message = try await ratedAnswer(context)
        try await store.setFeedback(messageID: message.id, feedback: nil)
        return .noContent
    }

    /// The caller's answer named by the path: an assistant message that is not being written.
    private func ratedAnswer(_ context: SluiceRequestContext) async throws -> Message {
        let (message, _) = try await Ownership(store: store).message(try context.parameters.require("id"), for: try context.requireUser())
        guard message.role == .assistant else {
            throw APIError.invalid("Only an answer can be rated; this message was written by the user.")
        }
        guard message.status != .streaming else {
            throw APIError(.conflict, code: "still_streaming", message: "This answer is still being written; rate it once it ends.")
        }
        return message
    }
}
