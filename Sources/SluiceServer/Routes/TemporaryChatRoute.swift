import Foundation
import Hummingbird
import SluiceCore

/// `POST /api/conversations/{id}/keep-alive` → `204`: the web app says, every few minutes while a temporary chat is
/// open (and when its tab is shown again), that it is still there. A temporary chat is deleted when the page leaves it,
/// or by the server an hour after its last message when the page could not say so (`UnkeptConversationSweeper`) —
/// which, without this, also deleted one left open and unused for an hour, under the eyes of its user. Now it lapses an
/// hour after the page last said so. `409 not_temporary` for a conversation that is kept; 403 for another user's.
struct TemporaryChatRoute {
    let store: any ConversationStore

    func register(on api: RouterGroup<SluiceRequestContext>) {
        api.post("conversations/:id/keep-alive", use: keepAlive)
    }

    @Sendable func keepAlive(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let conversation = try await Ownership(store: store).conversation(try context.parameters.require("id"), for: user)
        guard try await store.touchUnkept(conversationID: conversation.id, at: Date()) else {
            throw APIError(
                .conflict, code: "not_temporary",
                message: "This conversation is not a temporary chat: it is kept until you delete it.")
        }
        return Response(status: .noContent)
    }
}
