import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SluiceCore

/// OpenAI's Responses API, the one its SDKs and agent tools now start from: `POST /v1/responses` (streamed or
/// whole) and `GET /v1/responses/{id}`, in front of any model Sluice serves. Each call is the same turn as a Chat
/// Completions call — guard, context, budget, rate limits, retries, fallbacks, accounting, conversations — only the
/// wire differs. A response's id is its answer's (`resp_<message id>`), so `previous_response_id` continues that
/// answer's conversation from Sluice's store: the caller sends only what is new. `POST /v1/responses/input_tokens`
/// counts a body's input as the budget hold would. `DELETE /v1/responses/{id}` deletes a response: its answer and
/// the input that came with it.
struct ResponsesRoutes {
    let gateway: GatewayRoutes
    let counting: InputTokenCounter

    func register(on v1: RouterGroup<SluiceRequestContext>) {
        v1.post("responses", use: create)
        v1.post("responses/input_tokens", use: countInputTokens)
        v1.get("responses/:id", use: retrieve)
        v1.delete("responses/:id", use: delete)
    }

    /// `{"object": "response.input_tokens", "input_tokens": N}` (the SDKs' `responses.input_tokens.count`).
    @Sendable func countInputTokens(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let body = try await GatewayRoutes.body(of: request)
        let parsed = try ResponsesRequest(json: Data(body.readableBytesView))
        let user = try context.requireUser()
        let previous = try await parsed.previousResponseID.asyncMap { try await history(upTo: $0, user: user) } ?? []
        let tokens = try await counting.count(try parsed.call(after: previous), user: user)
        return GatewayRoutes.json(.ok, "{\"object\":\"response.input_tokens\",\"input_tokens\":\(tokens)}")
    }

    @Sendable func create(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let body = try await GatewayRoutes.body(of: request)
        let parsed = try ResponsesRequest(json: Data(body.readableBytesView))
        let user = try context.requireUser()
        let previous = try await parsed.previousResponseID.asyncMap { try await history(upTo: $0, user: user) } ?? []
        var turn = try await gateway.start(try parsed.call(after: previous), request: request, context: context)
        let messageID = turn.started.assistantMessageID
        let responseID = ResponsesWire.responseID(messageID)
        var echo = ResponsesWire.Echo(parsed, model: turn.model, createdAt: Int(turn.now.timeIntervalSince1970))
        var headers = turn.headers
        guard parsed.stream else {
            let answer = try await WholeAnswer.collect(first: turn.first, rest: &turn.rest)
            echo.model = answer.done.model
            let ending = ResponsesWire.ending(finishReason: answer.done.finishReason, usage: answer.done.usage, cost: answer.done.costUSD)
            GatewayRoutes.tell(answer.done.costUSD, in: &headers)
            let status = if case .completed = ending { "completed" } else { "incomplete" }
            let output = ResponsesWire.output(
                messageID: messageID, reasoning: answer.reasoning, encrypted: echo.encryptedReasoning ? answer.signedThinking : nil,
                summarized: echo.summarizesReasoning, text: answer.text, logprobs: answer.logprobs,
                toolCalls: answer.toolCalls, status: status)
            return GatewayRoutes.json(
                .ok, ResponsesWire.response(id: responseID, echo: echo, ending: ending, output: output), headers: headers)
        }
        return gateway.streamed(
            turn, as: ResponsesStream(responseID: responseID, messageID: messageID, echo: echo), headers: headers, context: context)
    }

    /// `GET /v1/responses/{id}`: a response as stored — its answer's text and calls, status and usage.
    @Sendable func retrieve(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let id = context.parameters.get("id") ?? ""
        let (message, conversation) = try await answer(id, user: user)
        let usage = WireUsage(message.usage)
        let cost = message.cost?.decimalString
        let ending: ResponsesWire.Ending =
            switch message.status {
            case .complete: ResponsesWire.ending(finishReason: message.finishReason, usage: usage, cost: cost)
            case .streaming: .inProgress
            case .partial where message.errorCode == nil, .cancelled:
                .incomplete(reason: message.status == .cancelled ? "cancelled" : "interrupted", usage: usage, cost: cost)
            case .partial, .error, .rejected:
                .failed(code: message.errorCode ?? "upstream_error", message: message.error ?? "The answer failed.")
            }
        // The items' own status: a failed answer's text is as far as it got.
        let status = if case .completed = ending { "completed" } else if case .inProgress = ending { "in_progress" } else { "incomplete" }
        var echo = ResponsesWire.Echo(model: message.model ?? conversation.model, createdAt: Int(message.createdAt.timeIntervalSince1970))
        echo.instructions = conversation.systemPrompt
        // `include=reasoning.encrypted_content` (the SDKs send `include%5B%5D=…`, Hummingbird leaves keys encoded), as on
        // create: the stored signed thinking.
        echo.encryptedReasoning = request.uri.queryParameters.contains { key, value in
            ["include", "include[]"].contains(String(key).removingPercentEncoding ?? "") && value == "reasoning.encrypted_content"
        }
        let output = ResponsesWire.output(
            messageID: message.id, reasoning: message.reasoning, encrypted: echo.encryptedReasoning ? message.signedThinking : nil,
            text: message.content, toolCalls: message.toolCalls, status: status)
        return GatewayRoutes.json(.ok, ResponsesWire.response(id: id, echo: echo, ending: ending, output: output))
    }

    /// `DELETE /v1/responses/{id}` (the SDKs' `responses.delete`): the answer and the input sent with it — the
    /// messages since the answer before it — are deleted, as OpenAI deletes a response with its input items; the
    /// conversation goes when nothing is left of it. Afterwards the id is 404, for `GET` and for
    /// `previous_response_id`. What the turn cost stays in the usage ledger.
    @Sendable func delete(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let id = context.parameters.get("id") ?? ""
        let (message, conversation) = try await answer(id, user: user)
        guard message.status != .streaming, gateway.launcher.hub.generation(message.id) == nil else {
            throw APIError(
                .conflict, code: "response_in_progress",
                message: "The response '\(id)' is still being written; delete it once it has ended.")
        }
        let stored = try await gateway.store.messages(conversationID: conversation.id)
        guard let end = stored.firstIndex(where: { $0.id == message.id }) else { throw APIError.notFound("response") }
        // The turn's input: what came after the answer before it (an earlier version of this one, superseded, is
        // not that answer: it goes too, as does any other version of this answer).
        let start = stored[..<end].lastIndex { $0.role == .assistant && !$0.superseded }.map { $0 + 1 } ?? 0
        let versions = message.versionGroup.map { group in stored.filter { $0.versionGroup == group }.map(\.id) } ?? []
        let doomed = stored[start...end].map(\.id) + versions
        try await gateway.store.deleteMessages(ids: Array(Set(doomed)), conversationID: conversation.id)
        return GatewayRoutes.json(.ok, "{\"id\":\(JSONText.quote(id)),\"object\":\"response\",\"deleted\":true}")
    }

    /// The conversation up to and including the answer `responseID` names, as the chat messages sent upstream.
    private func history(upTo responseID: String, user: User) async throws -> [ChatMessage] {
        let (message, conversation) = try await answer(responseID, user: user, param: "previous_response_id")
        guard message.status != .streaming else {
            throw APIError(
                .conflict, code: "response_in_progress",
                message: "The response '\(responseID)' is still being written; continue from it once it has ended.")
        }
        let stored = try await gateway.store.messages(conversationID: conversation.id).filter(ContextBuilder.isSendable)
        guard let end = stored.firstIndex(where: { $0.id == message.id }) else {
            throw ChatCompletionRequest.invalid(
                "The response '\(responseID)' has no answer to continue from (it failed, was replaced, or was left out); "
                    + "send the conversation in 'input' without 'previous_response_id'.", param: "previous_response_id")
        }
        return stored[...end].map(\.chatMessage)
    }

    /// The stored answer a `resp_…` id names, and its conversation: 404 when there is none, 403 when it is another user's.
    func answer(_ responseID: String, user: User, param: String? = nil) async throws -> (Message, Conversation) {
        guard let messageID = ResponsesWire.messageID(responseID), let message = try await gateway.store.message(id: messageID),
            message.role == .assistant, let conversation = try await gateway.store.conversation(id: message.conversationID)
        else {
            var error = APIError(
                .notFound, code: "response_not_found",
                message: "No response with id '\(responseID)' exists on this Sluice. It may have been deleted, or made with "
                    + "'store': false, which keeps nothing once it has been answered.")
            error.details = "\"param\":\(param.map(JSONText.quote) ?? "null")"
            throw error
        }
        guard conversation.userID == user.id else { throw APIError.forbidden }
        return (message, conversation)
    }
}
