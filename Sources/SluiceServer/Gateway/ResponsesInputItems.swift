import Foundation
import Hummingbird
import SluiceCore

/// `GET /v1/responses/{id}/input_items` (the SDKs' `responses.input_items.list`): what the answer was given — its
/// conversation's messages before it, as the Responses API's items (a user's `message` with `input_text`, an
/// answer's `message` with `output_text` and its `function_call`s, each result a `function_call_output`). The
/// instructions are the response's `instructions`, not an item. `order` (`desc`, the default, or `asc`), `limit`
/// (1–100, default 20) and `after` (an item id) page through them as OpenAI's lists do.
struct ResponsesInputItems {
    let routes: ResponsesRoutes

    func register(on v1: RouterGroup<SluiceRequestContext>) {
        v1.get("responses/:id/input_items", use: list)
    }

    @Sendable func list(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let query = request.uri.queryParameters
        let limit = Int(query.get("limit") ?? "20") ?? 0
        guard (1...100).contains(limit) else {
            throw ChatCompletionRequest.invalid("'limit' must be a whole number from 1 to 100.", param: "limit")
        }
        let order = query.get("order") ?? "desc"
        guard order == "asc" || order == "desc" else {
            throw ChatCompletionRequest.invalid("'order' must be \"asc\" or \"desc\".", param: "order")
        }
        let (message, conversation) = try await routes.answer(context.parameters.get("id") ?? "", user: user)
        let stored = try await routes.gateway.store.messages(conversationID: conversation.id).filter(ContextBuilder.isSendable)
        let before = stored.prefix { $0.id != message.id }
        var items = before.flatMap(Self.items)
        if order == "desc" { items.reverse() }
        if let after = query.get("after") {
            guard let index = items.firstIndex(where: { $0.id == after }) else {
                throw ChatCompletionRequest.invalid("'after' names no item of this response's input.", param: "after")
            }
            items.removeFirst(index + 1)
        }
        let page = items.prefix(limit)
        let quoted = { (id: String?) in id.map(JSONText.quote) ?? "null" }
        return GatewayRoutes.json(
            .ok,
            "{\"object\":\"list\",\"data\":[\(page.map(\.json).joined(separator: ","))],\"first_id\":\(quoted(page.first?.id)),"
                + "\"last_id\":\(quoted(page.last?.id)),\"has_more\":\(items.count > page.count)}")
    }

    /// A stored message as items: one, or an answer's text and each of its calls.
    static func items(_ message: Message) -> [(id: String, json: String)] {
        switch message.role {
        case .user, .system:
            let id = "msg_" + message.id
            let text = message.content.isEmpty && !message.images.isEmpty
                ? [] : ["{\"type\":\"input_text\",\"text\":\(JSONText.quote(message.content))}"]
            let images = message.images.map {
                "{\"type\":\"input_image\",\"image_url\":\(JSONText.quote($0.url)),\"detail\":\"\(($0.detail ?? .auto).rawValue)\"}"
            }
            let parts = (text + images).joined(separator: ",")
            return [(id, "{\"id\":\(JSONText.quote(id)),\"type\":\"message\",\"status\":\"completed\",\"role\":\"\(message.role.rawValue)\",\"content\":[\(parts)]}")]
        case .assistant:
            let items = ResponsesWire.output(messageID: message.id, text: message.content, toolCalls: message.toolCalls, status: "completed")
            let ids = (message.content.isEmpty && !message.toolCalls.isEmpty ? [] : ["msg_" + message.id])
                + message.toolCalls.indices.map { "fc_\(message.id)_\($0)" }
            return Array(zip(ids, items))
        case .tool:
            let id = "fco_" + message.id
            return [(id, "{\"id\":\(JSONText.quote(id)),\"type\":\"function_call_output\",\"status\":\"completed\","
                + "\"call_id\":\(JSONText.quote(message.toolCallID ?? "")),\"output\":\(JSONText.quote(message.content))}")]
        }
    }
}
