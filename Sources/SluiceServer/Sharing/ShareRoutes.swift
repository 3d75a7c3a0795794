import Foundation
import HTTPTypes
import Hummingbird
import SluiceCore
import SluiceStore

/// Sharing a conversation by link, as ChatGPT and Open WebUI share a chat: its owner makes (or updates, or deletes)
/// the link; anyone with it reads a copy of the thread as it was when shared (`SharedConversation`), without signing in.
///
/// - `POST /api/conversations/{id}/share` → the link (`201` when new, `200` with the same link and a new copy).
/// - `DELETE /api/conversations/{id}/share` → `204`; the link reads nothing any more. `GET /api/shares`: the owner's links.
/// - `GET /share/{token}` → the web app's read-only page (`share.html`); `GET /share/{token}/data` → the copy as JSON.
///
/// The token is 256 random bits: the link is the only way to it. The public answers say not to index them, not to
/// send the link on as a referrer from a link in the copy, and not to keep them cached (a deleted link is gone).
struct ShareRoutes {
    let store: any ConversationStore
    /// Stores a copy as the reader's own conversation (`continueAsOwn`), as an import is stored.
    let importer: ImportRoute
    /// The web app's folder (for `share.html`); `nil` serves only the JSON.
    let webRoot: String?

    func register(owner api: RouterGroup<SluiceRequestContext>, public router: Router<SluiceRequestContext>) {
        api.post("conversations/:id/share", use: share)
        api.delete("conversations/:id/share", use: unshare)
        api.get("shares", use: list)
        api.post("shares/:token/continue", use: continueAsOwn)
        router.get("share/:token/data", use: data)
        router.get("share/:token", use: page)
    }

    /// The link as its owner sees it.
    struct Link: ResponseEncodable {
        let url: String
        let token: String
        let sharedAt: Date
        /// The messages the copy holds.
        let messages: Int
    }

    @Sendable func share(_ request: Request, context: SluiceRequestContext) async throws -> EditedResponse<Link> {
        let user = try context.requireUser()
        let conversation = try await Ownership(store: store).conversation(try context.parameters.require("id"), for: user)
        if try await store.isUnkept(conversationID: conversation.id) {
            throw APIError(
                .conflict, code: "temporary_chat",
                message: "A temporary chat cannot be shared: it is deleted when you leave it. Start a normal conversation to share one.")
        }
        // Whole milliseconds, as the store keeps the time.
        let now = Date.nowToTheMillisecond
        let copy = SharedConversation(title: conversation.title, sharedAt: now, thread: try await store.messages(conversationID: conversation.id))
        guard !copy.messages.isEmpty else {
            throw APIError(.conflict, code: "nothing_to_share", message: "This conversation has no messages to share yet. Send one first.")
        }
        let before = try await store.sharedLink(conversationID: conversation.id)
        let link = try await store.share(
            conversationID: conversation.id, token: AccessToken.randomSecret(), snapshot: try copy.json(), at: now)
        return EditedResponse(
            status: before == nil ? .created : .ok,
            response: Link(url: "/share/\(link.token)", token: link.token, sharedAt: link.sharedAt, messages: copy.messages.count))
    }

    /// The caller's links (ChatGPT's "Shared links"), the most recently shared first.
    struct Listing: ResponseEncodable {
        struct Share: Encodable {
            let conversationId: String
            let title: String
            let url: String
            let sharedAt: Date
        }

        let shares: [Share]
    }

    @Sendable func list(_ request: Request, context: SluiceRequestContext) async throws -> Listing {
        let links = try await store.sharedLinks(userID: try context.requireUser().id)
        return Listing(shares: links.map {
            .init(conversationId: $0.conversationID, title: $0.title, url: "/share/\($0.token)", sharedAt: $0.sharedAt)
        })
    }

    /// `POST /api/shares/{token}/continue`: ChatGPT's "Continue this conversation" — the copy becomes a conversation of
    /// the signed-in reader's own, on their default model, at the top of their list; its questions are read by the
    /// prompt guard's rules as an import's are (one it would refuse is kept, never sent). The owner's conversation and
    /// link are not touched.
    @Sendable func continueAsOwn(_ request: Request, context: SluiceRequestContext) async throws -> EditedResponse<ConversationResource> {
        let user = try context.requireUser()
        let copy = try SharedConversation(json: try await sharedLink(context).snapshot)
        let (conversation, messages) = importer.stored(copy.asImport, for: user)
        try await store.createConversation(conversation, messages: messages)
        return EditedResponse(status: .created, response: ConversationResource(conversation))
    }

    @Sendable func unshare(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let conversation = try await Ownership(store: store).conversation(try context.parameters.require("id"), for: user)
        guard try await store.unshare(conversationID: conversation.id) else {
            throw APIError(.notFound, code: "not_shared", message: "This conversation is not shared.")
        }
        return Response(status: .noContent)
    }

    @Sendable func data(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let link = try await sharedLink(context)
        var headers = Self.publicHeaders
        headers[.contentType] = "application/json"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: link.snapshot)))
    }

    @Sendable func page(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        // The page reads the copy itself (`/share/{token}/data`) and says so when there is none; the status says it too.
        let found: Bool
        do {
            _ = try await sharedLink(context)
            found = true
        } catch let error as APIError where error.status == .notFound {
            found = false
        }
        guard let webRoot, let html = FileManager.default.contents(atPath: webRoot + "/share.html") else {
            throw APIError(.notFound, code: "not_found", message: "This server has no web app; the shared conversation is at this address + /data.")
        }
        var headers = Self.publicHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: found ? .ok : .notFound, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: html)))
    }

    private func sharedLink(_ context: SluiceRequestContext) async throws -> SharedLink {
        let token = try context.parameters.require("token")
        // Tokens are 43 characters of base64url; anything else is not asked of the store.
        guard token.count <= 64, token.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }),
              let link = try await store.sharedLink(token: token)
        else {
            throw APIError(
                .notFound, code: "share_not_found",
                message: "This shared conversation does not exist: the link is wrong, or its owner stopped sharing it.")
        }
        return link
    }

    /// Not indexed, not sent on as a referrer, not kept: a link that is deleted is gone at once.
    static let publicHeaders: HTTPFields = [
        HTTPField.Name("X-Robots-Tag")!: "noindex, nofollow",
        HTTPField.Name("Referrer-Policy")!: "no-referrer",
        .cacheControl: "no-store",
    ]
}
