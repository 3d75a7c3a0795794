/// How hard a reasoning model should think before it answers, as the caller asked it: OpenAI's `reasoning_effort`
/// (Chat Completions), `reasoning.effort` (Responses), or Anthropic's `thinking` with a budget of tokens.
///
/// Each upstream gets it in its own words: an OpenAI-compatible one as `reasoning_effort`, Anthropic's Messages API
/// as `thinking: {"type": "enabled", "budget_tokens": …}`. Efforts and budgets translate as LiteLLM translates them
/// (low 1 024, medium 2 048, high 4 096, xhigh 8 192 tokens; minimal is Anthropic's least, 1 024), so a caller moving
/// from LiteLLM gets the same thinking for the same words.
public enum ReasoningRequest: Sendable, Equatable, Hashable {
    /// One of OpenAI's effort levels.
    case effort(ReasoningEffort)
    /// Anthropic's budget: at most this many tokens of thinking (1 024 or more).
    case budget(tokens: Int)
    /// Anthropic's `thinking: {"type": "disabled"}`: no thinking, said in Anthropic's words (an OpenAI-compatible
    /// upstream is then asked nothing, its model thinking as it does by default).
    case disabled

    /// Anthropic's least budget: a request with less is refused by its API.
    public static let leastAnthropicBudget = 1024

    /// What an OpenAI-compatible upstream is sent as `reasoning_effort`; `nil` sends nothing.
    public var openAIEffort: String? {
        switch self {
        case .effort(let effort): effort.rawValue
        case .budget(let tokens): tokens <= 1024 ? "low" : tokens <= 2048 ? "medium" : tokens <= 4096 ? "high" : "xhigh"
        case .disabled: nil
        }
    }

    /// The thinking budget Anthropic's Messages API is asked for; `nil` asks for no thinking.
    public var anthropicBudget: Int? {
        switch self {
        case .effort(let effort): effort.anthropicBudget
        case .budget(let tokens): tokens
        case .disabled: nil
        }
    }

    /// How the web app and logs name it: the effort, or the budget in tokens.
    public var label: String {
        switch self {
        case .effort(let effort): effort.rawValue
        case .budget(let tokens): "\(tokens) tokens"
        case .disabled: "disabled"
        }
    }
}

/// OpenAI's `reasoning_effort` levels (`xhigh` as its newest models take it).
public enum ReasoningEffort: String, Sendable, CaseIterable, Hashable {
    case none, minimal, low, medium, high, xhigh

    /// The Anthropic thinking budget LiteLLM sends for the level; `nil` for `none`.
    public var anthropicBudget: Int? {
        switch self {
        case .none: nil
        case .minimal, .low: 1024
        case .medium: 2048
        case .high: 4096
        case .xhigh: 8192
        }
    }

    /// The levels in words for an error message: "none, minimal, low, medium, high or xhigh".
    public static var listed: String {
        let names = allCases.map(\.rawValue)
        return names.dropLast().joined(separator: ", ") + " or " + names.last!
    }
}
