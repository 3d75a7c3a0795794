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
    public func requestTokens(_ request: ChatRequest) async throws -> Int {
        let tools = try await request.tools.asyncMap { try await textTokens($0.countedText) } ?? 0
        return try await promptTokens(request.messages) + tools
    }
}
