import SluiceCore

/// The reasoning options of the gateway's wires, read the same way on each: OpenAI's `reasoning_effort` (Chat
/// Completions) and `reasoning.effort` (Responses), and Anthropic's `thinking` object (the Messages API, and Chat
/// Completions as LiteLLM takes it there). A problem is thrown as the sentence and the field it names (`Problem`); each wire
/// wraps it in its own error shape.
enum ReasoningField {
    struct Problem: Error, Equatable {
        let message: String
        let param: String
    }

    /// Anthropic's `thinking` object as a body carries it (read by `thinking(type:budget:maxTokens:field:)`).
    struct Thinking: Decodable {
        let type: String?
        let budgetTokens: Int?
        enum CodingKeys: String, CodingKey {
            case type
            case budgetTokens = "budget_tokens"
        }

        func request(maxTokens: Int?) throws -> ReasoningRequest {
            try ReasoningField.thinking(type: type, budget: budgetTokens, maxTokens: maxTokens, field: "thinking")
        }
    }

    /// An effort level by OpenAI's name; `nil` (absent or JSON null) leaves it to the model.
    static func effort(_ name: String?, field: String) throws -> ReasoningRequest? {
        guard let name else { return nil }
        guard let effort = ReasoningEffort(rawValue: name) else {
            throw Problem(message: "'\(field)' must be \(ReasoningEffort.listed); '\(name)' is not one of them.", param: field)
        }
        return .effort(effort)
    }

    /// Anthropic's `{"type": "enabled", "budget_tokens": …}` or `{"type": "disabled"}`. The budget is 1 024 tokens or
    /// more and, when the caller sets the answer's limit (`maxTokens`, which Anthropic's wire requires), below it —
    /// the rules Anthropic's API answers 400 for.
    static func thinking(type: String?, budget: Int?, maxTokens: Int?, field: String) throws -> ReasoningRequest {
        switch type {
        case "disabled"?: return .disabled
        case "enabled"?:
            guard let budget else {
                throw Problem(message: "'\(field).budget_tokens' is required when thinking is enabled: the most tokens it may think, 1024 or more.", param: "\(field).budget_tokens")
            }
            guard budget >= ReasoningRequest.leastAnthropicBudget else {
                throw Problem(message: "'\(field).budget_tokens' must be at least \(ReasoningRequest.leastAnthropicBudget); it is \(budget).", param: "\(field).budget_tokens")
            }
            if let maxTokens, maxTokens <= budget {
                throw Problem(
                    message: "'max_tokens' (\(maxTokens)) must be greater than '\(field).budget_tokens' (\(budget)): the thinking counts toward the answer's limit. Raise max_tokens or lower the budget.",
                    param: "max_tokens")
            }
            return .budget(tokens: budget)
        default:
            throw Problem(message: "'\(field).type' must be 'enabled' (with 'budget_tokens') or 'disabled'.", param: "\(field).type")
        }
    }
}
