import Foundation
import Hummingbird
import SluiceCore

/// `POST /api/messages/{id}/select`: puts this version of a regenerated answer or an edited question into the thread
/// in place of the one there now, with the turns that followed it, as ChatGPT's and Open WebUI's ‹ › do: the next
/// message goes on from it. The version it replaces and its later turns are kept, and come back when that version is
/// selected again. Answers with the conversation as `GET /api/conversations/{id}` shows it.
///
/// Allowed in an archived conversation too: it spends nothing and changes no words, only which branch is read.
struct VersionSelectRoute {
    let store: any ConversationStore
    let meter: ContextMeter
    let hub: GenerationHub

    func register(on api: RouterGroup<SluiceRequestContext>) {
        api.post("messages/:id/select", use: select)
    }

    @Sendable func select(_ request: Request, context: SluiceRequestContext) async throws -> ConversationResource {
        let user = try context.requireUser()
        let (version, conversation) = try await Ownership(store: store).message(try context.parameters.require("id"), for: user)
        guard let group = version.versionGroup else {
            throw APIError(
                .conflict, code: "not_selectable",
                message: "This message has only one version: there is no other to show in its place.")
        }
        var messages = try await store.messages(conversationID: conversation.id)
        if version.superseded {
            let thread = messages.filter { !$0.superseded }
            guard let index = thread.firstIndex(where: { $0.versionGroup == group }) else {
                throw APIError(
                    .conflict, code: "not_selectable",
                    message: "This version belongs to turns that are not in the conversation as it stands: select the version of the earlier question they followed first.")
            }
            let current = thread[index]
            let later = Array(thread[(index + 1)...])
            guard ([current] + later).allSatisfy({ $0.status != .streaming && hub.generation($0.id) == nil }) else {
                throw APIError(.conflict, code: "not_selectable", message: "An answer in this conversation is still being written; stop it first.")
            }
            try await store.selectVersion(version, replacing: current, hiding: later.map(\.id))
            messages = try await store.messages(conversationID: conversation.id)
        }
        // Already in the thread: nothing to change (selecting twice is harmless).
        return ConversationResource(
            conversation, messages: messages,
            context: await meter.figures(
                try await InstructionsRoute.personalized(conversation, for: user, store: store, catalog: meter.catalog),
                history: messages, logger: context.logger))
    }
}
