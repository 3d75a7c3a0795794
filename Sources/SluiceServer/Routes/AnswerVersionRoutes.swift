import Foundation
import Hummingbird
import SluiceCore

/// `POST /api/messages/{id}/regenerate` (a new version of the latest answer) and `GET /api/messages/{id}`
/// (one message, e.g. an earlier version).
struct AnswerVersionRoutes {
    let store: any ConversationStore
    let turn: ChatTurn
    let preparation: TurnPreparation
    let hub: GenerationHub
    let forwardScenarioHeader: Bool

    func register(on api: RouterGroup<SluiceRequestContext>) {
        api.post("messages/:id/regenerate", use: regenerate)
        api.get("messages/:id", use: show)
    }

    @Sendable func show(_ request: Request, context: SluiceRequestContext) async throws -> MessageResource {
        let (message, _) = try await Ownership(store: store).message(try context.parameters.require("id"), for: try context.requireUser())
        var versions: [String]?
        if let group = message.versionGroup { versions = try await store.versions(group: group).map(\.id) }
        var resource = MessageResource(message, versions: versions)
        if message.role == .user, let answer = Self.answer(to: message, in: try await store.messages(conversationID: message.conversationID)) {
            resource.answer = AnswerBox(MessageResource(answer))
        }
        return resource
    }

    /// The answer `question` got: of the answers between it and the next question, the one shown (not superseded),
    /// else the latest (an earlier version of an edited question keeps its answers, superseded with it).
    static func answer(to question: Message, in messages: [Message]) -> Message? {
        guard let index = messages.firstIndex(where: { $0.id == question.id }) else { return nil }
        let answers = messages[(index + 1)...].prefix { $0.role != .user }.filter { $0.role == .assistant }
        return answers.last { !$0.superseded } ?? answers.last
    }

    @Sendable func regenerate(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let (message, conversation) = try await Ownership(store: store).message(try context.parameters.require("id"), for: user)
        try Ownership.requireActive(conversation)
        guard message.role == .assistant else {
            throw APIError.invalid("Only an answer can be regenerated; this message was written by the user.")
        }
        let history = try await store.messages(conversationID: conversation.id).filter { !$0.superseded }
        guard history.last?.id == message.id, !message.superseded else {
            throw APIError(.conflict, code: "not_regenerable", message: "Only the latest answer of a conversation can be regenerated.")
        }
        guard message.status != .streaming, hub.generation(message.id) == nil else {
            throw APIError(.conflict, code: "not_regenerable", message: "This answer is still being written; stop it first.")
        }
        let body = try await JSONObjectBody(request: request, context: context, allowEmpty: true)
        let temperature = try body.optionalNumber("temperature", in: 0...1)
        let model = try body.optionalString("model", maxLength: 200).flatMap { $0.isEmpty ? nil : $0 }
            ?? message.model ?? conversation.model
        let earlier = Array(history.dropLast())
        guard let question = earlier.last, question.role == .user else {
            throw APIError.invalid("This answer has no question before it to answer again.")
        }
        let versionID = Identifier.make()
        let prepared = try await preparation.prepare(
            TurnPreparation.Ask(
                model: model, temperature: temperature, sampling: try body.reasoningSampling(),
                extraHeaders: TurnLauncher.scenarioHeaders(request, forward: forwardScenarioHeader), apiKey: context.apiKey
            ).withSettings(of: conversation),
            conversation: try await InstructionsRoute.personalized(
                conversation, for: user, store: store, catalog: turn.catalog, model: model, question: question.content,
                history: earlier.dropLast()),
            history: Array(earlier.dropLast()),
            tail: [question.chatMessage], user: user, answerID: versionID,
            logger: context.logger)
        let version = Message(
            id: versionID, conversationID: conversation.id, role: .assistant, content: "", status: .streaming,
            model: model, createdAt: Date())
        try await store.addVersion(version, replacing: message)
        // Regenerated with another model: the conversation goes on with it, as after a message that picks one.
        if model != conversation.model { try await store.setConversationModel(id: conversation.id, model: model) }
        let meta = TurnEvent.meta(.init(
            conversationID: conversation.id, userMessageID: question.id, assistantMessageID: version.id, model: model,
            context: prepared.context))
        let plan = prepared.plan
        return MessageRoutes.startStreaming(plan, meta: meta, turn: turn, hub: hub, executor: context.executor)
    }
}
