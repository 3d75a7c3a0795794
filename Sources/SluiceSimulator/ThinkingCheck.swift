import Foundation

/// The rules Anthropic's Messages API checks a request with extended thinking by, in its words: a request breaking
/// one gets a 400 from the simulator as it would from the API, so tests show Sluice never sends one. The simulator
/// signs its thinking as Anthropic does (here: the text, encoded), and a thinking block sent back must carry the
/// signature of its text exactly.
enum ThinkingCheck {
    /// The simulator's signature of a thinking text.
    static func signature(of thinking: String) -> String {
        Data(("sim-signed:" + thinking).utf8).base64EncodedString()
    }

    /// Anthropic's test string: a request that contains it is answered with a `redacted_thinking` block.
    static let redactedTrigger = "ANTHROPIC_MAGIC_STRING_TRIGGER_REDACTED_THINKING_46C9A13E193C177646C7398A98432ECCCE4C1253"
    static let redactedData = Data("sim-redacted:an encrypted thought".utf8).base64EncodedString()

    private static let docs = " Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking"

    /// Why the API would refuse the request; `nil` when it would not (or thinking is not enabled).
    static func refusal(of body: AnthropicMode.MessagesRequest) -> String? {
        // Every block sent back must be one the model wrote, unchanged.
        for (messageIndex, message) in body.messages.enumerated() {
            for (index, block) in message.thinkingBlocks {
                if block.type == "thinking", block.signature != signature(of: block.thinking ?? "") {
                    return "messages.\(messageIndex).content.\(index): Invalid `signature` in `thinking` block"
                }
                if block.type == "redacted_thinking", block.data != redactedData {
                    return "messages.\(messageIndex).content.\(index): Invalid `data` in `redacted_thinking` block"
                }
            }
        }
        guard let thinking = body.thinking else { return nil }
        guard ["enabled", "disabled"].contains(thinking.type) else { return "thinking.type: Input tag '\(thinking.type)' found using 'type' does not match any of the expected tags: 'disabled', 'enabled'" }
        guard body.thinks else { return nil }
        guard let budget = thinking.budgetTokens, budget >= 1024 else {
            return "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
        }
        if let maxTokens = body.maxTokens, maxTokens <= budget {
            return "`max_tokens` must be greater than `thinking.budget_tokens`." + docs
        }
        if let temperature = body.temperature, temperature != 1 {
            return "`temperature` may only be set to 1 when thinking is enabled." + docs
        }
        if let topP = body.topP, topP < 0.95 {
            return "`top_p` must be greater than or equal to 0.95 or unset when thinking is enabled." + docs
        }
        if let choice = body.toolChoice?.type, choice == "any" || choice == "tool" {
            return "Thinking may not be enabled when tool_choice forces tool use."
        }
        // In a function-calling loop the last answer's thinking must come back, before its calls; a prefilled answer
        // (the last message the assistant's) must start with thinking too.
        if let index = body.messages.lastIndex(where: { $0.role == "assistant" }),
            body.messages[index].usesTools || index == body.messages.count - 1,
            !["thinking", "redacted_thinking"].contains(body.messages[index].firstBlock ?? "")
        {
            return "messages.\(index).content.0.type: Expected `thinking` or `redacted_thinking`, but found `\(body.messages[index].firstBlock ?? "text")`. When `thinking` is enabled, a final `assistant` message must start with a thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks)." + docs
        }
        return nil
    }
}
