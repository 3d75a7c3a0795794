import Foundation
import Hummingbird
import SluiceCore

/// `POST /api/messages/{id}/continue`: resumes generating an answer that ended early (`partial`, `cancelled`
/// or `error`). New tokens are appended to the same message and numbered after the ones it has.
struct ContinueRoute {
    let store: any ConversationStore
    let turn: ChatTurn
    let preparation: TurnPreparation
    let hub: GenerationHub
    let forwardScenarioHeader: Bool

    /// Sent after the partial answer so that any chat model, not only those that continue an assistant prefill, picks
    /// up where it stopped. A model whose upstream continues one (`ModelCatalog.continuesPrefill`: Anthropic,
    /// llama-server) gets the partial answer as the start of its answer instead, and goes on mid-sentence.
    static let instruction =
        "Continue your previous answer exactly where it stopped. Do not repeat any of it and do not comment on the interruption."

    func register(on api: RouterGroup<SluiceRequestContext>) {
        api.post("messages/:id/continue", use: handle)
    }

    @Sendable func handle(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let (message, conversation) = try await Ownership(store: store).message(try context.parameters.require("id"), for: user)
        try Ownership.requireActive(conversation)
        guard message.role == .assistant else {
            throw APIError.invalid("Only an answer can be continued; this message was written by the user.")
        }
        switch message.status {
        case .partial, .cancelled, .error:
            guard !message.superseded else {
                throw APIError(.conflict, code: "not_continuable", message: "This is an earlier version of a regenerated answer.")
            }
        case .complete:
            throw APIError(.conflict, code: "not_continuable", message: "This answer is already complete. Ask a follow-up question instead.")
        case .rejected:
            throw APIError.invalid("Only an answer can be continued; this message was written by the user.")
        case .streaming:
            throw APIError(.conflict, code: "not_continuable", message: "This answer is still being written; follow it with GET /api/messages/\(message.id)/events.")
        }
        guard hub.generation(message.id) == nil else {
            throw APIError(.conflict, code: "not_continuable", message: "This answer is still being written.")
        }
        let body = try await JSONObjectBody(request: request, context: context, allowEmpty: true)
        let temperature = try body.optionalNumber("temperature", in: 0...1)
        let model = try body.optionalString("model", maxLength: 200).flatMap { $0.isEmpty ? nil : $0 }
            ?? message.model ?? conversation.model

        let history = try await store.messages(conversationID: conversation.id).filter { !$0.superseded }
        let earlier = Array(history.prefix { $0.id != message.id })
        guard let question = earlier.last(where: { $0.role == .user }) else {
            throw APIError.invalid("This answer has no question before it to continue from.")
        }
        let sampling = try body.reasoningSampling()
        var tail = [question.chatMessage]
        if !message.content.isEmpty {
            tail.append(ChatMessage(role: .assistant, content: message.content))
            // A prefill takes no thinking on Anthropic: a call that asks for thinking is asked in words instead.
            if turn.catalog.continuesPrefill(model) != true || sampling.reasoning != nil {
                tail.append(ChatMessage(role: .user, content: Self.instruction))
            }
        }
        let prepared = try await preparation.prepare(
            TurnPreparation.Ask(
                model: model, temperature: temperature, sampling: sampling,
                extraHeaders: TurnLauncher.scenarioHeaders(request, forward: forwardScenarioHeader), apiKey: context.apiKey
            ).withSettings(of: conversation),
            conversation: try await InstructionsRoute.personalized(
                conversation, for: user, store: store, catalog: turn.catalog, model: model, question: question.content,
                history: earlier.prefix { $0.id != question.id }),
            history: Array(earlier.dropLast()), tail: tail, user: user, answerID: message.id,
            prior: .init(
                content: message.content, tokenEnds: message.tokenEnds, usage: message.usage,
                reasoning: message.reasoning, reasoningMs: message.reasoningMs),
            logger: context.logger)
        try await store.reopen(messageID: message.id, model: model)
        let meta = TurnEvent.meta(.init(
            conversationID: conversation.id, userMessageID: question.id, assistantMessageID: message.id, model: model,
            context: prepared.context))
        let plan = prepared.plan
        return MessageRoutes.startStreaming(plan, meta: meta, turn: turn, hub: hub, executor: context.executor)
    }
}
