import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SluiceCore

/// `POST /v1/messages`: Anthropic's Messages API in front of any model Sluice serves, for Anthropic's SDKs and tools
/// built on them (authenticated with a Sluice token as `x-api-key` or a bearer token). The same turn as a Chat
/// Completions call — guard, context, budget, retries, fallbacks, accounting, threads — only the wire differs:
/// Anthropic's events (`message_start`, `content_block_delta`, …, `message_stop`) or a whole `message`, and errors
/// as `{"type": "error", "error": {"type", "message"}}`.
struct AnthropicRoutes {
    let gateway: GatewayRoutes

    func register(on v1: RouterGroup<SluiceRequestContext>) {
        v1.post("messages", use: messages)
    }

    @Sendable func messages(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        do {
            return try await answer(request, context: context)
        } catch let error as APIError {
            var shaped = error
            shaped.anthropicShape = true
            AnthropicWire.addRateLimitHeaders(to: &shaped.headers, now: Date())
            throw shaped
        }
    }

    private func answer(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let body = try await GatewayRoutes.body(of: request)
        let parsed = try AnthropicMessagesRequest(json: Data(body.readableBytesView))
        var turn = try await gateway.start(parsed.call, request: request, context: context)
        let id = "msg_" + turn.started.assistantMessageID.replacingOccurrences(of: "-", with: "")
        var headers = turn.headers
        AnthropicWire.addRateLimitHeaders(to: &headers, now: turn.now)
        guard parsed.stream else {
            let answer = try await WholeAnswer.collect(first: turn.first, rest: &turn.rest)
            headers[.contentType] = "application/json"
            GatewayRoutes.tell(answer.done.costUSD, in: &headers)
            let message = AnthropicWire.message(
                id: id, model: turn.model, thinking: parsed.showsThinking ? answer.reasoning : "",
                signedThinking: parsed.showsThinking ? answer.signedThinking : [], text: answer.text,
                toolCalls: answer.toolCalls, done: answer.done)
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: message)))
        }
        let opening = AnthropicWire.opening(id: id, model: turn.model, inputTokens: turn.started.inputTokens)
        return gateway.streamed(
            turn, as: AnthropicStream(opening: opening, showsThinking: parsed.showsThinking), headers: headers, context: context)
    }
}
