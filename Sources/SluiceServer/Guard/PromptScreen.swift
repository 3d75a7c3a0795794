import Foundation
import Logging
import SluiceCore
import SluiceGuard

/// Applies the prompt guard to a user's message before anything goes upstream. A rejected message is still
/// stored (status `rejected`, the rule as its error code) so the user sees why and loses nothing; the attempt
/// is logged without its text and counted.
struct PromptScreen: Sendable {
    let promptGuard: PromptGuard?
    let store: any ConversationStore
    let metrics: SluiceMetrics

    /// Returns normally when the message may be sent; otherwise stores it as rejected and throws the error the
    /// client sees (413 for the length limit, 422 for a suspected injection). `save` stores the rejected message
    /// (by default `store.insert`; the launcher's stores a new conversation with it).
    /// `attachments` are screened too, by the rules but not the length limit; a refusal names the file.
    func screen(
        _ content: String, attachments: [Attachment] = [], conversationID: String, userID: String, at now: Date,
        logger: Logger, save: ((Message) async throws -> Void)? = nil
    ) async throws {
        guard let promptGuard else { return }
        var verdict = promptGuard.check(content)
        var file: Attachment?
        if verdict.rejection == nil, let hidden = attachments.lazy.map({ ($0, promptGuard.checkAttachment($0.text)) })
            .first(where: { $0.1.rejection != nil })
        {
            (file, verdict) = hidden
        }
        guard let rejection = verdict.rejection, let rule = verdict.ruleID else { return }
        let error = Self.apiError(for: rejection, in: file)
        var message = Message(
            id: Identifier.make(), conversationID: conversationID, role: .user, content: content, status: .rejected,
            model: nil, createdAt: now, error: error.message, errorCode: rule)
        message.attachments = attachments
        if let save { try await save(message) } else { try await store.insert(message) }
        let category: String
        switch rejection {
        case .tooLong: category = "length"
        case .injection(_, let ruleCategory, _, _): category = ruleCategory
        }
        metrics.promptRejected(rule: rule, category: category)
        logger.notice("the prompt guard rejected a message", metadata: [
            "user_id": "\(userID)", "rule": "\(rule)", "category": "\(category)",
            "message_sha256": "\(PromptGuard.fingerprint(file?.text ?? content))", "score": "\(verdict.score)",
            "attachment": "\(file != nil)",
        ])
        logger.debug("rejected message text", metadata: ["text": "\(content)"])
        var withDetails = error
        withDetails.details = "\"rule\":\(JSONText.quote(rule)),\"category\":\(JSONText.quote(category)),\"message_id\":\(JSONText.quote(message.id))"
        throw withDetails
    }

    static func apiError(for rejection: GuardVerdict.Rejection, in file: Attachment? = nil) -> APIError {
        if let file, case .injection(_, _, let description, _) = rejection {
            return APIError(
                .unprocessableContent, code: "prompt_rejected",
                message: "This message was not sent to the model: its attached file \(JSONText.quote(file.name)) \(description), which Sluice blocks to keep the assistant safe. It was kept in the conversation. If the file is what you meant to send, remove that passage from it or ask about it in your own words.")
        }
        switch rejection {
        case .tooLong(let length, let limit):
            return APIError(
                .contentTooLarge, code: "message_too_long",
                message: "Your message has \(length) characters; the limit is \(limit). Shorten it or split it into several messages. It was kept in the conversation but not sent.")
        case .injection(_, _, let description, _):
            return APIError(
                .unprocessableContent, code: "prompt_rejected",
                message: "This message was not sent to the model: it \(description), which Sluice blocks to keep the assistant safe. It was kept in the conversation. If this is a mistake, rephrase it (for example, quote the phrase you are asking about).")
        }
    }
}
