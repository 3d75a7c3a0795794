import Foundation
import Hummingbird
import SluiceCore
import SluiceGuard

/// `PATCH /api/messages/{id}` `{"content"}`: the user rewrites an answer, as Open WebUI and LibreChat let one edit a
/// response — to correct it or steer what the model reads next. The text is stored as written and sent from the next
/// turn on; the answer says when it was edited (`edited_at`); what the model's answer was charged stays. A question is
/// changed by editing it (`POST /api/messages/{id}/edit`), which asks it again.
///
/// The new text is read by the prompt guard's rules as a question is (an answer is what the model reads next): one it
/// would refuse is a `422` and nothing changes.
struct AnswerEditRoute {
    let store: any ConversationStore
    let hub: GenerationHub
    let promptGuard: PromptGuard?
    let metrics: SluiceMetrics
    /// The longest answer text a user may write.
    static let maxCharacters = 100_000

    func register(on api: RouterGroup<SluiceRequestContext>) {
        api.patch("messages/:id", use: edit)
    }

    @Sendable func edit(_ request: Request, context: SluiceRequestContext) async throws -> MessageResource {
        let user = try context.requireUser()
        let (message, conversation) = try await Ownership(store: store).message(try context.parameters.require("id"), for: user)
        try Ownership.requireActive(conversation)
        guard message.role == .assistant else {
            throw APIError(
                .conflict, code: "not_editable",
                message: "Only an answer is rewritten in place. To change a question, edit it (✎ on the question, POST /api/messages/{id}/edit): it is asked again.")
        }
        guard !message.superseded else {
            throw APIError(
                .conflict, code: "not_editable",
                message: "This answer is an earlier version, out of the conversation as it stands: select it first (‹ ›), then edit it.")
        }
        guard message.status != .streaming, hub.generation(message.id) == nil else {
            throw APIError(.conflict, code: "not_editable", message: "This answer is still being written; stop it first, then edit it.")
        }
        let body = try await JSONObjectBody(request: request, context: context, allowEmpty: false, maxBytes: 1 << 20)
        guard let content = try body.optionalString("content", maxLength: Self.maxCharacters) else {
            throw APIError.invalid("Send the answer's new text as 'content'.")
        }
        guard !content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw APIError.invalid("An answer cannot be empty: type its new text, or regenerate it.")
        }
        if let promptGuard, let rejection = promptGuard.checkAttachment(content).rejection,
           case .injection(let rule, let category, let description, _) = rejection
        {
            metrics.promptRejected(rule: rule, category: category)
            throw APIError(
                .unprocessableContent, code: "prompt_rejected",
                message: "The answer was not changed: the new text \(description), which Sluice blocks because the model reads it next. Rewrite that passage, or ask about it in a question.")
        }
        guard try await store.editAnswer(messageID: message.id, content: content, at: Date()) else {
            throw APIError(.conflict, code: "not_editable", message: "This answer is being written again; wait for it to end, then edit it.")
        }
        guard let edited = try await store.message(id: message.id) else { throw APIError.notFound("message") }
        var versions: [String]?
        if let group = edited.versionGroup { versions = try await store.versions(group: group).map(\.id) }
        return MessageResource(edited, versions: versions)
    }
}
