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
    /// The new user message: the one this call answers (empty when it answers `toolResults`).
    var content: String
    /// The new user message's images.
    var images: [ImageInput] = []
    /// The functions the caller offers the model.
    var tools: ToolOptions? = nil
    /// The results of the functions the last answer called, when the call ends with them rather than with a user's
    /// message: what this call answers.
    var toolResults: [ChatMessage] = []
    /// Whether the turn is kept once it ends (false: the Responses API's `store: false`). A turn not kept runs in a
    /// conversation of its own — never one the caller's history continues — which is deleted with everything in it
    /// once the turn is settled, before its end reaches the caller; what it cost stays in the usage ledger.
    var keep = true
    var endUser: String? { sampling.endUser }

    /// What this call adds to the conversation: the user's message or the function results.
    var added: [ChatMessage] { toolResults.isEmpty ? [ChatMessage(role: .user, content: content, images: images)] : toolResults }

    /// The longest end user name kept (`user`, `metadata.user_id`): an id or a hash of one, not a document.
    static let maxEndUserCharacters = 256
}

extension GatewayCall {
    /// A call of `turns` — the caller's messages after the system ones, ending with a user's message or with
    /// function results (the parsers check that) — split into the history and what the call adds.
    init(
        model: String?, temperature: Double?, maxTokens: Int?, sampling: SamplingOptions, system: String?,
        turns: [ChatMessage], tools: ToolOptions?
    ) {
        // A call ending with function results answers them all: the trailing run of tool messages.
        let results = turns.last?.role == .tool ? Array(turns.reversed().prefix { $0.role == .tool }.reversed()) : []
        self.init(
            model: model, temperature: temperature, maxTokens: maxTokens, sampling: sampling, system: system,
            history: Array(turns.dropLast(max(results.count, 1))), content: results.isEmpty ? turns.last?.content ?? "" : "",
            images: results.isEmpty ? turns.last?.images ?? [] : [], tools: tools, toolResults: results)
    }
}
