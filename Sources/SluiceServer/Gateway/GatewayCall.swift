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
    /// The start of the answer, which the caller wrote (a final assistant message: Anthropic's prefill, Mistral's and
    /// DeepSeek's `prefix`): sent upstream as the answer's beginning for the model to continue. The caller gets the
    /// continuation, as Anthropic answers; the stored answer is both.
    var prefill: String? = nil
    /// Whether the turn is kept once it ends (false: the Responses API's `store: false`). A turn not kept runs in a
    /// conversation of its own — never one the caller's history continues — which is deleted with everything in it
    /// once the turn is settled, before its end reaches the caller; what it cost stays in the usage ledger.
    var keep = true
    /// How many answers the caller asked for (OpenAI's `n`): each is a turn of its own (`GatewayRoutes.completeMany`).
    /// The response cache serves only calls for one: it keeps one answer per question.
    var answers = 1
    /// This call is one of those answers after the first (`completeMany` starts each with its own copy): its hold is
    /// no request of its own under the rate limits (`HoldRequest.extraAnswer`).
    var extraAnswer = false
    /// The caller's tags from the body (`metadata.tags`); a header's are added at launch (`CallTags`).
    var tags: [String] = []
    var endUser: String? { sampling.endUser }

    /// What this call adds to the conversation: the user's message or the function results.
    var added: [ChatMessage] { toolResults.isEmpty ? [ChatMessage(role: .user, content: content, images: images)] : toolResults }

    /// The messages sent upstream after the history: what the call adds, then the answer's start if it has one.
    var tail: [ChatMessage] { added + (prefill.map { [ChatMessage(role: .assistant, content: $0)] } ?? []) }

    /// The longest end user name kept (`user`, `metadata.user_id`): an id or a hash of one, not a document.
    static let maxEndUserCharacters = 256
}

extension GatewayCall {
    /// A call of `turns` — the caller's messages after the system ones, ending with a user's message or with
    /// function results (the parsers check that) — split into the history and what the call adds.
    init(
        model: String?, temperature: Double?, maxTokens: Int?, sampling: SamplingOptions, system: String?,
        turns: [ChatMessage], tools: ToolOptions?, prefill: String? = nil
    ) {
        // A call ending with function results answers them all: the trailing run of tool messages.
        let results = turns.last?.role == .tool ? Array(turns.reversed().prefix { $0.role == .tool }.reversed()) : []
        self.init(
            model: model, temperature: temperature, maxTokens: maxTokens, sampling: sampling, system: system,
            history: Array(turns.dropLast(max(results.count, 1))), content: results.isEmpty ? turns.last?.content ?? "" : "",
            images: results.isEmpty ? turns.last?.images ?? [] : [], tools: tools, toolResults: results, prefill: prefill)
    }

    /// Takes a final assistant message off `turns`: the start of the answer (`nil` without one, or for an empty
    /// one, which asks nothing of the answer). Trailing whitespace is dropped from it — Anthropic refuses a prefill
    /// that ends with some, and a model continues a word better than a space (it writes the space itself). A final
    /// assistant message that calls functions is no start: `pendingCalls` (the wire's words asking for their results)
    /// is thrown.
    static func takePrefill(from turns: inout [ChatMessage], pendingCalls: @autoclosure () -> any Error) throws -> String? {
        guard let last = turns.last, last.role == .assistant else { return nil }
        guard last.toolCalls.isEmpty else { throw pendingCalls() }
        turns.removeLast()
        let text = last.content.withoutTrailingWhitespace
        return text.isEmpty ? nil : text
    }
}
