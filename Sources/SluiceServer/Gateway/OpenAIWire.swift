import Foundation
import HTTPTypes
import SluiceCore

/// The JSON of OpenAI's Chat Completions responses, written directly (one small string per token, no encoder on
/// the hot path): stream chunks, the usage chunk, a whole completion, and errors mapped to HTTP statuses.
enum OpenAIWire {
    /// What every object of one answer shares.
    struct Envelope: Sendable {
        let id: String
        let created: Int
        let model: String

        func prefix(_ object: String) -> String {
            "{\"id\":\(JSONText.quote(id)),\"object\":\"\(object)\",\"created\":\(created),\"model\":\(JSONText.quote(model)),"
        }
    }

    /// One `data:` line of the stream.
    static func event(_ json: String) -> String { "data: \(json)\n\n" }

    static let done = "data: [DONE]\n\n"

    /// A stream chunk with a piece of the answer (or the role, first), or the finish reason (last).
    static func chunk(
        _ envelope: Envelope, choice: Int = 0, content: String? = nil, role: Bool = false, reasoning: String? = nil,
        logprobs: [TokenLogprob]? = nil, finishReason: String? = nil, usageNull: Bool
    ) -> String {
        var delta: [String] = []
        if role { delta.append("\"role\":\"assistant\"") }
        if let content { delta.append("\"content\":\(JSONText.quote(content))") }
        if let reasoning { delta.append("\"reasoning_content\":\(JSONText.quote(reasoning))") }
        let finish = finishReason.map(JSONText.quote) ?? "null"
        return envelope.prefix("chat.completion.chunk")
            + "\"choices\":[{\"index\":\(choice),\"delta\":{\(delta.joined(separator: ","))},"
            + (logprobs.map { "\"logprobs\":" + TokenLogprob.choiceJSON($0) + "," } ?? "") + "\"finish_reason\":\(finish)}]"
            + (usageNull ? ",\"usage\":null}" : "}")
    }

    /// A stream chunk with one whole block of an Anthropic model's thinking, signed, as LiteLLM's `thinking_blocks`
    /// (after the block's `reasoning_content` pieces): what the caller sends back with the answer's calls.
    static func thinkingChunk(_ envelope: Envelope, choice: Int = 0, _ block: SignedThinking, usageNull: Bool) -> String {
        envelope.prefix("chat.completion.chunk")
            + "\"choices\":[{\"index\":\(choice),\"delta\":{\"thinking_blocks\":[\(block.json)]},\"finish_reason\":null}]"
            + (usageNull ? ",\"usage\":null}" : "}")
    }

    /// A stream chunk with a piece of a function call: the first piece of a call has its id, type and name.
    static func toolCallChunk(_ envelope: Envelope, choice: Int = 0, _ call: ToolCallDelta, usageNull: Bool) -> String {
        var fields = ["\"index\":\(call.index)"]
        if let id = call.id { fields += ["\"id\":\(JSONText.quote(id))", "\"type\":\"function\""] }
        var function: [String] = []
        if let name = call.name { function.append("\"name\":\(JSONText.quote(name))") }
        function.append("\"arguments\":\(JSONText.quote(call.arguments))")
        fields.append("\"function\":{\(function.joined(separator: ","))}")
        return envelope.prefix("chat.completion.chunk")
            + "\"choices\":[{\"index\":\(choice),\"delta\":{\"tool_calls\":[{\(fields.joined(separator: ","))}]},\"finish_reason\":null}]"
            + (usageNull ? ",\"usage\":null}" : "}")
    }

    /// OpenAI's `tool_calls` of a whole message.
    static func toolCallsJSON(_ calls: [ToolCall]) -> String {
        "[" + calls.map {
            "{\"id\":\(JSONText.quote($0.id)),\"type\":\"function\",\"function\":{\"name\":\(JSONText.quote($0.name)),"
                + "\"arguments\":\(JSONText.quote($0.arguments))}}"
        }.joined(separator: ",") + "]"
    }

    /// The last chunk when the caller asked for `stream_options.include_usage`: no choices, the usage.
    static func usageChunk(_ envelope: Envelope, usage: WireUsage, cost: String?) -> String {
        envelope.prefix("chat.completion.chunk") + "\"choices\":[],\"usage\":\(usageJSON(usage, cost: cost))}"
    }

    /// A whole (non-streamed) completion.
    static func completion(
        _ envelope: Envelope, content: String, toolCalls: [ToolCall] = [], reasoning: String = "",
        signedThinking: [SignedThinking] = [], logprobs: [TokenLogprob]? = nil, finishReason: String?, usage: WireUsage,
        cost: String? = nil
    ) -> String {
        let only = choice(
            0, content: content, toolCalls: toolCalls, reasoning: reasoning, signedThinking: signedThinking, logprobs: logprobs,
            finishReason: finishReason)
        return completion(envelope, choices: [only], usage: usage, cost: cost)
    }

    /// A whole completion of several answers (`n`): `choices`, each written by `choice(_:…)`.
    static func completion(_ envelope: Envelope, choices: [String], usage: WireUsage, cost: String?) -> String {
        envelope.prefix("chat.completion") + "\"choices\":[" + choices.joined(separator: ",") + "],\"usage\":\(usageJSON(usage, cost: cost))}"
    }

    /// One answer of a whole completion: its message, log probabilities and finish reason.
    static func choice(
        _ index: Int, content: String, toolCalls: [ToolCall], reasoning: String, signedThinking: [SignedThinking],
        logprobs: [TokenLogprob]?, finishReason: String?
    ) -> String {
        // With calls and no text, `content` is null, as OpenAI writes it.
        let text = content.isEmpty && !toolCalls.isEmpty ? "null" : JSONText.quote(content)
        // The message's fields after `content`: its calls, then its thinking.
        var after = toolCalls.isEmpty ? "" : ",\"tool_calls\":" + toolCallsJSON(toolCalls)
        if !reasoning.isEmpty { after += ",\"reasoning_content\":" + JSONText.quote(reasoning) }
        // LiteLLM's `thinking_blocks`: the thinking as Anthropic signed it, to send back with the calls.
        if !signedThinking.isEmpty { after += ",\"thinking_blocks\":[" + signedThinking.map(\.json).joined(separator: ",") + "]" }
        return "{\"index\":\(index),\"message\":{\"role\":\"assistant\",\"content\":\(text)\(after)},"
            + (logprobs.map { "\"logprobs\":" + TokenLogprob.choiceJSON($0) + "," } ?? "")
            + "\"finish_reason\":\(JSONText.quote(finishReason ?? "stop"))}"
    }

    /// OpenAI's `usage`, and what the call cost in USD as `cost` (OpenRouter's field; LiteLLM's
    /// `x-litellm-response-cost`) when the model's price is known: `cost`, an exact decimal string, is written as the
    /// JSON number it spells, so no digit is lost on the wire.
    static func usageJSON(_ usage: WireUsage, cost: String? = nil) -> String {
        let input = usage.inputTokens ?? 0
        let output = usage.outputTokens ?? 0
        // `prompt_tokens_details.cached_tokens`: the part of the prompt the provider read from its prompt cache.
        return "{\"prompt_tokens\":\(input),\"completion_tokens\":\(output),\"total_tokens\":\(usage.totalTokens ?? input + output),"
            + "\"prompt_tokens_details\":{\"cached_tokens\":\(usage.cachedInputTokens ?? 0)}"
            + (cost.map { ",\"cost\":" + $0 } ?? "") + "}"
    }

    /// An error object inside the stream, once text has been sent (OpenAI SDKs raise it as an API error).
    static func streamError(_ failure: TurnEvent.Failure) -> String {
        let error = apiError(failure)
        return "{\"error\":{\"message\":\(JSONText.quote(failure.message)),\"type\":\"\(APIError.type(of: error.status))\","
            + "\"code\":\(JSONText.quote(failure.code)),\"param\":null}}"
    }

    /// The event stream ended with neither `done` nor `error` (Sluice is shutting down).
    static func endedWithoutResult(partial: Bool) -> APIError {
        apiError(interrupted(partial: partial))
    }

    /// Why an answer whose events ended with neither `done` nor `error` has no result, as a turn's failure.
    static func interrupted(partial: Bool) -> TurnEvent.Failure {
        .init(code: "interrupted", message: "The answer ended without a result; try again.", retryable: true, partial: partial)
    }

    /// The HTTP answer for a turn that failed before any text: the status an OpenAI client expects for it.
    static func apiError(_ failure: TurnEvent.Failure) -> APIError {
        let status: HTTPResponse.Status =
            switch failure.code {
            case "rate_limited": .tooManyRequests
            case "upstream_unavailable", "client_disconnected", "interrupted": .serviceUnavailable
            case "upstream_timeout": .gatewayTimeout
            case "upstream_rejected", "images_unsupported": .badRequest
            default: .badGateway
            }
        // No Retry-After: Sluice has already waited what the upstream asked within its budget; the message says more.
        return APIError(status, code: failure.code, message: failure.message)
    }
}
