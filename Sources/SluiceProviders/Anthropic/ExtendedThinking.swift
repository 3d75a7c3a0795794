import SluiceCore

/// Anthropic's extended thinking for a request that asked for a reasoning effort or a thinking budget:
/// `"thinking": {"type": "enabled", "budget_tokens": …}`, with the `max_tokens` the API then needs.
///
/// The API's rules, which a request breaking gets a 400 for, are kept here rather than passed on:
/// - the budget is 1 024 tokens or more and below `max_tokens`. A caller's own output limit (or the budget's
///   allowance) is the whole answer's, thinking included, as on OpenAI's reasoning models. An effort's budget is cut
///   so that the answer keeps 1 024 tokens (half of a smaller limit) however long the model thinks, never under the
///   API's 1 024 — LiteLLM cuts it to one token under the limit, which can leave the answer a single token. A
///   budget the caller named is theirs: cut only to one under the limit. A limit of 1 024 or less leaves no room for
///   thinking, so none is asked for (as LiteLLM). Without a limit the answer keeps its usual room and the budget
///   comes on top.
/// - thinking cannot be combined with a forced tool (a response format answered through its tool, `tool_choice`
///   `required` or a named function): such a request goes without thinking.
/// - when the last answer called functions, the API wants that answer's thinking back, signed, before its
///   `tool_use` blocks (`ChatMessage.thinking`, which Sluice keeps from Anthropic's stream and a caller sends back).
///   Without it — the answer came from another model, or its thinking was redacted before it was shown — the
///   request goes without thinking; once an answer in words follows the calls, the model thinks again.
/// - a request ending with an assistant turn (a prefilled answer) goes without thinking: the API wants a final
///   assistant turn to start with thinking, and takes no prefill with it. (A gateway caller's prefill; the web app's
///   Continue adds an instruction after the partial answer instead.)
struct ExtendedThinking: Encodable, Equatable {
    let type = "enabled"
    let budgetTokens: Int
    /// The `max_tokens` to send with it (not encoded here: the body writes it).
    let maxTokens: Int

    init?(for request: ChatRequest, defaultMaxTokens: Int) {
        guard var budget = request.sampling.reasoning?.anthropicBudget else { return nil }
        if MessagesRequestBody.answersThroughTool(request) { return nil }
        switch request.tools?.choice {
        case .required?, .function?: return nil
        default: break
        }
        if let answer = request.messages.last(where: { $0.role == .assistant }), !answer.toolCalls.isEmpty, answer.thinking.isEmpty {
            return nil
        }
        if request.messages.last?.role == .assistant { return nil }
        budget = max(budget, ReasoningRequest.leastAnthropicBudget)
        if let limit = request.maxTokens {
            guard limit > ReasoningRequest.leastAnthropicBudget else { return nil }
            if case .budget? = request.sampling.reasoning {
                budgetTokens = min(budget, limit - 1)
            } else {
                let answerRoom = min(Self.answerRoom, limit / 2)
                budgetTokens = min(budget, max(ReasoningRequest.leastAnthropicBudget, limit - answerRoom))
            }
            maxTokens = limit
        } else {
            budgetTokens = budget
            maxTokens = defaultMaxTokens + budget
        }
    }

    /// What an answer keeps beside an effort's thinking under a limit: Sluice's default output reserve.
    static let answerRoom = 1024

    enum CodingKeys: String, CodingKey {
        case type
        case budgetTokens = "budget_tokens"
    }
}
