import Foundation
import Hummingbird
import SluiceCore

/// `POST /api/messages/{id}/edit` `{"content", "model"?, "temperature"?}`: a question asked again in other words, as
/// ChatGPT's edit does — the latest or an earlier one. The earlier question, its answer and every later turn of the
/// thread stay as the question's earlier version (its `versions`; `GET /api/messages/{id}` shows an earlier one with
/// its answer), out of the thread and of what goes upstream; the new words are screened and stored before anything
/// goes upstream, and a new answer streams as after a send.
struct EditRoute {
    let store: any ConversationStore
    let launcher: TurnLauncher

    func register(on api: RouterGroup<SluiceRequestContext>) {
        api.post("messages/:id/edit", use: edit)
    }

    @Sendable func edit(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let (question, conversation) = try await Ownership(store: store).message(try context.parameters.require("id"), for: user)
        try Ownership.requireActive(conversation)
        let thread = try await store.messages(conversationID: conversation.id).filter { !$0.superseded }
        guard question.role == .user, !question.superseded, let index = thread.firstIndex(where: { $0.id == question.id }) else {
            throw APIError(
                .conflict, code: "not_editable",
                message: "Only a question of the conversation as it stands can be edited; this one is an earlier version: select it first (‹ ›).")
        }
        // Its answer and everything after it: they go with the earlier version.
        let later = Array(thread[(index + 1)...])
        guard later.allSatisfy({ $0.status != .streaming && launcher.hub.generation($0.id) == nil }) else {
            throw APIError(.conflict, code: "not_editable", message: "An answer in this conversation is still being written; stop it first.")
        }
        let body = try await JSONObjectBody(request: request, context: context, allowEmpty: false)
        let (content, temperature, model) = try MessageRoutes.ask(
            body, in: conversation, user: user, launcher: launcher, ifEmpty: "type the question as you want to ask it")
        let sampling = try body.reasoningSampling()

        // The new words replace the question in one commit that keeps the earlier question, its answer and the turns
        // after it as its earlier version — a question the guard refuses too, stored as rejected.
        let replace = { @Sendable (version: Message) async throws in
            try await store.addVersion(version, replacing: question, alsoSuperseding: later.map(\.id))
        }
        let now = Date()
        try await launcher.screen.screen(
            content, conversationID: conversation.id, userID: user.id, at: now, logger: context.logger, save: replace)
        var edited = Message(
            id: Identifier.make(), conversationID: conversation.id, role: .user, content: content, status: .complete,
            model: nil, createdAt: now)
        // The question's files stay with it: an edit rewords the question.
        edited.attachments = question.attachments
        edited.images = question.images
        try await replace(edited)
        if model != conversation.model { try await store.setConversationModel(id: conversation.id, model: model) }

        let answer = Message(
            id: Identifier.make(), conversationID: conversation.id, role: .assistant, content: "", status: .streaming,
            model: model, createdAt: now.addingTimeInterval(0.001))
        let prepared = try await launcher.preparation.prepare(
            TurnPreparation.Ask(
                model: model, temperature: temperature, sampling: sampling,
                extraHeaders: TurnLauncher.scenarioHeaders(request, forward: launcher.forwardScenarioHeader), apiKey: context.apiKey
            ).withSettings(of: conversation),
            conversation: try await InstructionsRoute.personalized(
                conversation, for: user, store: store, catalog: launcher.turn.catalog, model: model, question: edited.content,
                history: thread[..<index]),
            history: Array(thread[..<index]), tail: [edited.chatMessage],
            user: user, answerID: answer.id, answer: answer, logger: context.logger)
        if !prepared.answerStored { try await store.insert(answer) }
        let meta = TurnEvent.meta(.init(
            conversationID: conversation.id, userMessageID: edited.id, assistantMessageID: answer.id, model: model,
            context: prepared.context))
        return MessageRoutes.startStreaming(
            prepared.plan, meta: meta, turn: launcher.turn, hub: launcher.hub, executor: context.executor)
    }
}
