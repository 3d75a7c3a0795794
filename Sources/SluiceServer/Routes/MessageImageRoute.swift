import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SluiceCore

/// `GET /api/messages/{id}/images/{n}`: the bytes of a question's n-th image (from 0), with its type — so that a
/// conversation's JSON names its images (`WireImage`) instead of carrying megabytes of base64 on every read. Only
/// the conversation's owner may read it (403 for anyone else). An image sent as a link has no bytes here: 404.
struct MessageImageRoute {
    let store: any ConversationStore

    func register(on api: RouterGroup<SluiceRequestContext>) {
        api.get("messages/:id/images/:index", use: image)
    }

    @Sendable func image(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let (message, _) = try await Ownership(store: store).message(try context.parameters.require("id"), for: try context.requireUser())
        guard let index = context.parameters.get("index", as: Int.self), message.images.indices.contains(index),
            let payload = message.images[index].base64Payload,
            let bytes = Data(base64Encoded: String(payload), options: .ignoreUnknownCharacters)
        else { throw APIError.notFound("image") }
        return Response(
            status: .ok,
            headers: [
                .contentType: message.images[index].mediaType ?? "application/octet-stream",
                // A message's images never change: the browser may keep them for as long as it likes, for this user only.
                .cacheControl: "private, max-age=31536000, immutable",
                HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// An image as the API shows it on a message: its type and size, and where to get it — `/api/messages/{id}/images/{n}`
/// for one sent as data, the link for one sent as a link (`ImageInput` keeps the data itself).
struct WireImage: Codable, Sendable {
    let url: String
    let detail: String?
    let mediaType: String?
    let width: Int?
    let height: Int?

    init(_ image: ImageInput, messageID: String, index: Int) {
        url = image.base64Payload == nil ? image.url : "/api/messages/\(messageID)/images/\(index)"
        detail = image.detail?.rawValue
        mediaType = image.mediaType
        width = image.width
        height = image.height
    }
}
