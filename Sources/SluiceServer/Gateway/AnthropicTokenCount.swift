import Foundation
import Hummingbird
import SluiceCore

/// `POST /v1/messages/count_tokens`: Anthropic's token counting (the SDKs' `messages.count_tokens`, which Claude Code
/// calls before it sends), answered `{"input_tokens": N}` with the count Sluice's own budget hold would make of the
/// same body: its system prompt, messages and tools, counted by the server's tokenizer. Nothing is stored or sent
/// upstream, and no budget or rate limit is charged, so a client may count as often as it plans.
struct AnthropicTokenCount {
    let gateway: GatewayRoutes
    /// The server's counter, the budget hold's; `nil` when Sluice cannot count for its models.
    let counter: (any PromptCounter)?

    func register(on v1: RouterGroup<SluiceRequestContext>) {
        v1.post("messages/count_tokens", use: countTokens)
    }

    @Sendable func countTokens(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        do {
            return try await count(request, context: context)
        } catch var error as APIError {
            error.anthropicShape = true
            throw error
        }
    }

    private func count(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let body = try await GatewayRoutes.body(of: request)
        let call = try AnthropicMessagesRequest(json: Data(body.readableBytesView), requiringMaxTokens: false).call
        let model = call.model ?? user.defaultModel(gateway.defaultModel)
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
                    + "so it cannot answer count_tokens. Messages still work; their usage comes from the model.")
        }
        let messages = (call.system.map { [ChatMessage(role: .system, content: $0)] } ?? []) + call.history + call.added
        let tokens: Int
        do {
            tokens = try await counter.requestTokens(ChatRequest(model: model, messages: messages, tools: call.tools))
        } catch {
            throw APIError(
                .badGateway, code: "upstream_unreachable",
                message: "Sluice could not count these tokens because the model's tokenizer did not answer. Try again in a moment.")
        }
        return GatewayRoutes.json(.ok, "{\"input_tokens\":\(tokens)}")
    }
}
