import Foundation
import Hummingbird
import SluiceCore

/// Counts a gateway call's input as Sluice's budget hold counts it — its system prompt, messages and tools, by the
/// server's tokenizer — for the APIs' counting endpoints. Nothing is stored or sent upstream, and no budget or rate
/// limit is charged, so a client may count as often as it plans.
struct InputTokenCounter: Sendable {
    let gateway: GatewayRoutes
    /// The server's counter, the budget hold's; `nil` when Sluice cannot count for its models.
    let counter: (any PromptCounter)?

    func count(_ call: GatewayCall, user: User) async throws -> Int {
        let model = gateway.model(named: call.model, for: user)
        guard gateway.models.contains(model) else {
            throw APIError(
                .notFound, code: "model_not_found",
                message: "The model '\(model)' does not exist on this Sluice. GET /v1/models lists the ones you can use.")
        }
        try ModelAccess.check(user, model: model)
        guard let counter else {
            throw APIError(
                .notImplemented, code: "counting_unavailable",
                message: "This Sluice cannot count tokens for its models (its tokenizer data is missing: run ./sluice.sh setup), "
                    + "so it cannot answer a count. Requests still work; their usage comes from the model.")
        }
        let messages = (call.system.map { [ChatMessage(role: .system, content: $0)] } ?? []) + call.history + call.tail
        do {
            return try await counter.requestTokens(ChatRequest(model: model, messages: messages, tools: call.tools))
        } catch {
            throw APIError(
                .badGateway, code: "upstream_unreachable",
                message: "Sluice could not count these tokens because the model's tokenizer did not answer. Try again in a moment.")
        }
    }
}

/// `POST /v1/messages/count_tokens`: Anthropic's token counting (the SDKs' `messages.count_tokens`, which Claude Code
/// calls before it sends), answered `{"input_tokens": N}` for a message's body without `max_tokens`.
struct AnthropicTokenCount {
    let counting: InputTokenCounter

    func register(on v1: RouterGroup<SluiceRequestContext>) {
        v1.post("messages/count_tokens", use: countTokens)
    }

    @Sendable func countTokens(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        do {
            let user = try context.requireUser()
            let body = try await GatewayRoutes.body(of: request)
            let call = try AnthropicMessagesRequest(json: Data(body.readableBytesView), requiringMaxTokens: false).call
            return GatewayRoutes.json(.ok, "{\"input_tokens\":\(try await counting.count(call, user: user))}")
        } catch var error as APIError {
            error.anthropicShape = true
            throw error
        }
    }
}
