/// Counts what a chat request costs in input tokens on its model, the way that model's provider counts:
/// used to reserve budget before any upstream call and to fill in usage when a provider reports none.
public protocol PromptCounter: Sendable {
    /// The input tokens of these messages sent as one chat prompt, including the chat format's framing.
    func promptTokens(_ messages: [ChatMessage]) async throws -> Int
    /// The tokens of a bare text (an answer), without framing.
    func textTokens(_ text: String) async throws -> Int
}

extension PromptCounter {
    /// The input tokens of a whole request: its messages and, when it offers functions, their definitions.
    /// The signed thinking of a request that thinks, which goes back to Anthropic with the loop's calls, counts too.
    public func requestTokens(_ request: ChatRequest) async throws -> Int {
        let tools = try await request.tools.asyncMap { try await textTokens($0.countedText) } ?? 0
        let thinking = (request.sampling.reasoning?.anthropicBudget ?? 0) > 0 ? try await loopThinkingTokens(request.messages) : 0
        return try await promptTokens(request.messages) + tools + thinking
    }

    /// The tokens of the signed thinking a thinking request sends back to Anthropic, which reads it as input: that of
    /// the answers after the user's last words (the function-calling loop under way; `MessagesRequestBody` sends no
    /// other). A redacted block is encrypted: about four of its characters to a token.
    public func loopThinkingTokens(_ messages: [ChatMessage]) async throws -> Int {
        var total = 0
        for message in messages[messages.loopStart...] where message.role == .assistant {
            for block in message.thinking {
                switch block {
                case .thinking(let text, _): total += try await textTokens(text)
                case .redacted(let data): total += data.utf8.count / 4
                }
            }
        }
        return total
    }
}
