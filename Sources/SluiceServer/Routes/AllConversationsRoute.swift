import Foundation
import Hummingbird
import SluiceCore

/// ChatGPT's "Archive all chats" and "Delete all chats" (its Settings → Data controls): `POST
/// /api/conversations/archive-all` → `{"archived": n}` archives every conversation of the caller's that is not archived
/// (temporary chats aside); `POST /api/conversations/delete-all` → `{"deleted": n}` deletes every one — archived and
/// temporary ones too — with its messages and shared link. Usage stays in the ledger; projects and saved prompts stay.
/// A `POST` with a name, not a `DELETE` on the list: no stray request to `/api/conversations` can empty it.
struct AllConversationsRoute {
    let store: any ConversationStore

    func register(on api: RouterGroup<SluiceRequestContext>) {
        api.post("conversations/archive-all", use: archiveAll)
        api.post("conversations/delete-all", use: deleteAll)
    }

    struct Archived: ResponseEncodable { let archived: Int }
    struct Deleted: ResponseEncodable { let deleted: Int }

    @Sendable func archiveAll(_ request: Request, context: SluiceRequestContext) async throws -> Archived {
        Archived(archived: try await store.archiveAllConversations(userID: try context.requireUser().id, at: Date.nowToTheMillisecond))
    }

    @Sendable func deleteAll(_ request: Request, context: SluiceRequestContext) async throws -> Deleted {
        Deleted(deleted: try await store.deleteAllConversations(userID: try context.requireUser().id))
    }
}
