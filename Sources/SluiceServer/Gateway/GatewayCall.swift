import SluiceCore

/// What a gateway call asks, whichever wire it came in on (OpenAI's Chat Completions, Anthropic's Messages): the
/// system instructions, the earlier turns, the new user message and the caller's options.
struct GatewayCall: Sendable {
    var model: String?
    var temperature: Double?
    var maxTokens: Int?
    var sampling: SamplingOptions
    var system: String?
    /// The turns before the new user message.
    var history: [ChatMessage]
    /// The new user message: the one this call answers.
    var content: String
    var endUser: String? { sampling.endUser }

    /// The longest end user name kept (`user`, `metadata.user_id`): an id or a hash of one, not a document.
    static let maxEndUserCharacters = 256
}
