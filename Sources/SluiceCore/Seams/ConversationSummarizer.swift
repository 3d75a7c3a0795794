/// Folds older messages of a conversation into its running summary (a model call, usually a small local one).
public protocol ConversationSummarizer: Sendable {
    /// The summary extended with `messages` (oldest first); `previous` is the summary so far, if any.
    func summarize(previous: String?, messages: [ChatMessage]) async throws -> String
}
