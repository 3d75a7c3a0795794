import Foundation
import HTTPTypes
import NIOCore
import SluiceCore

/// The JSON of Anthropic's Messages API responses: the events of a streamed message, a whole message, and a stop
/// reason for each way an answer ends.
enum AnthropicWire {
    /// One named event of the stream.
    static func event(_ name: String, _ json: String) -> String { "event: \(name)\ndata: \(json)\n\n" }

    /// `end_turn`, `max_tokens`, `stop_sequence` or `tool_use`, from the answer's finish reason.
    static func stopReason(_ finishReason: String?) -> String {
        switch finishReason {
        case "length": "max_tokens"
        case "stop_sequence": "stop_sequence"
        case "tool_calls": "tool_use"
        default: "end_turn"
        }
    }

    /// Anthropic counts the prompt's cached parts apart from `input_tokens`; Sluice counts them inside it. `cost`: what
    /// the call cost in USD, as on the chat completions wire (`OpenAIWire.usageJSON`; the SDK keeps the extra field).
    static func usage(_ usage: WireUsage, cost: String? = nil) -> String {
        let (read, written) = (usage.cachedInputTokens ?? 0, usage.cacheWriteTokens ?? 0)
        let uncached = max((usage.inputTokens ?? 0) - read - written, 0)
        return "{\"input_tokens\":\(uncached),\"cache_creation_input_tokens\":\(written),\"cache_read_input_tokens\":\(read),"
            + "\"output_tokens\":\(usage.outputTokens ?? 0)" + (cost.map { ",\"cost\":" + $0 } ?? "") + "}"
    }

    /// `message_start`, with the input as Sluice counted it (the provider's figure follows in `message_delta`).
    static func opening(id: String, model: String, inputTokens: Int?) -> String {
        event("message_start", "{\"type\":\"message_start\",\"message\":{\"id\":\(JSONText.quote(id)),\"type\":\"message\","
            + "\"role\":\"assistant\",\"model\":\(JSONText.quote(model)),\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,"
            + "\"usage\":{\"input_tokens\":\(inputTokens ?? 0),\"output_tokens\":0}}}")
    }

    static func blockStart(_ index: Int, _ block: String) -> String {
        event("content_block_start", "{\"type\":\"content_block_start\",\"index\":\(index),\"content_block\":\(block)}")
    }

    static func blockStop(_ index: Int) -> String {
        event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":\(index)}")
    }

    static let emptyTextBlock = "{\"type\":\"text\",\"text\":\"\"}"

    /// A `thinking` block as it starts, or another model's thinking whole: its `signature` is empty. Anthropic's own
    /// signature follows as a `signature_delta` (`SignedThinking`); a block sent back unsigned is left out upstream.
    static func thinkingBlock(_ thinking: String) -> String {
        "{\"type\":\"thinking\",\"thinking\":\(JSONText.quote(thinking)),\"signature\":\"\"}"
    }

    static func signatureDelta(_ signature: String, index: Int) -> String {
        event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":\(index),\"delta\":{\"type\":\"signature_delta\",\"signature\":\(JSONText.quote(signature))}}")
    }

    static func thinkingDelta(_ thinking: String, index: Int) -> String {
        event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":\(index),\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\(JSONText.quote(thinking))}}")
    }

    static func textDelta(_ text: String, index: Int) -> String {
        event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":\(index),\"delta\":{\"type\":\"text_delta\",\"text\":\(JSONText.quote(text))}}")
    }

    static func inputDelta(_ json: String, index: Int) -> String {
        event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":\(index),\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\(JSONText.quote(json))}}")
    }

    /// A `tool_use` block as it starts in a stream (its input follows in pieces) or, with `input`, whole.
    static func toolUse(id: String, name: String, input: String = "{}") -> String {
        "{\"type\":\"tool_use\",\"id\":\(JSONText.quote(id)),\"name\":\(JSONText.quote(name)),\"input\":\(input)}"
    }

    /// A call's arguments as a `tool_use` input, which must be an object: arguments that are not one go as `{}`.
    static func input(_ arguments: String) -> String {
        if case .object? = try? JSONValue(parsing: Array(arguments.utf8)) { return arguments }
        return "{}"
    }

    /// The stop reason with the usage (the input too: the provider's figure, known at the end), and `message_stop`.
    static func closing(_ done: TurnEvent.Done) -> String {
        event("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"\(stopReason(done.finishReason))\","
            + "\"stop_sequence\":null},\"usage\":\(usage(done.usage, cost: done.costUSD))}")
            + event("message_stop", "{\"type\":\"message_stop\"}")
    }

    /// An error after text was sent: Anthropic's `error` event (the SDKs raise it).
    static func streamError(_ failure: TurnEvent.Failure) -> String {
        let error = OpenAIWire.apiError(failure)
        return event("error", "{\"type\":\"error\",\"error\":{\"type\":\"\(errorType(error.status.code))\",\"message\":\(JSONText.quote(failure.message))}}")
    }

    /// Anthropic's error `type` for an HTTP status (`overloaded_error` for 503 and 529).
    static func errorType(_ status: Int) -> String {
        switch status {
        case 400, 422: "invalid_request_error"
        case 401: "authentication_error"
        case 403: "permission_error"
        case 404: "not_found_error"
        case 413: "request_too_large"
        case 429: "rate_limit_error"
        case 503, 529: "overloaded_error"
        default: "api_error"
        }
    }

    /// A whole (non-streamed) message: its thinking (when asked for and there is thinking: Anthropic's signed blocks,
    /// or one unsigned block of another model's), its text block (unless it only called functions), then its
    /// `tool_use` blocks.
    static func message(
        id: String, model: String, thinking: String = "", signedThinking: [SignedThinking] = [], text: String,
        toolCalls: [ToolCall] = [], done: TurnEvent.Done
    ) -> String {
        let thought = signedThinking.isEmpty ? (thinking.isEmpty ? [] : [thinkingBlock(thinking)]) : signedThinking.map(\.json)
        let blocks = thought
            + (text.isEmpty && !toolCalls.isEmpty ? [] : ["{\"type\":\"text\",\"text\":\(JSONText.quote(text))}"])
            + toolCalls.map { toolUse(id: $0.id, name: $0.name, input: input($0.arguments)) }
        return "{\"id\":\(JSONText.quote(id)),\"type\":\"message\",\"role\":\"assistant\",\"model\":\(JSONText.quote(done.model)),"
            + "\"content\":[\(blocks.joined(separator: ","))],\"stop_reason\":\"\(stopReason(done.finishReason))\","
            + "\"stop_sequence\":null,\"usage\":\(usage(done.usage, cost: done.costUSD))}"
    }
}

/// Turns a turn's events into Anthropic's stream, block by block: text opens a text block, a call's first piece a
/// `tool_use` block whose input follows as `input_json_delta`, thinking (when asked for) a `thinking` block with
/// `thinking_delta`s, ended by its `signature_delta` when Anthropic signed it; each block is stopped before the next
/// starts.
struct AnthropicStream: WireEventStream {
    /// `message_start`, made before the stream from the answer's id, model and counted input.
    let openingText: String
    /// Whether the caller enabled thinking.
    let showsThinking: Bool
    private enum Kind { case text, thinking, toolUse }
    /// The open block's index and kind.
    private var open: (index: Int, kind: Kind)?
    private var nextIndex = 0
    /// Whether a text or `tool_use` block has started (an answer of thinking alone still gets an empty text block).
    private var answered = false
    private(set) var ended = false

    init(opening: String, showsThinking: Bool = false) {
        openingText = opening
        self.showsThinking = showsThinking
    }

    func opening() -> String { openingText }

    mutating func text(for event: TurnEvent) -> String? {
        switch event {
        case .token(_, _, let piece):
            var out = ""
            if open?.kind != .text { out += start(AnthropicWire.emptyTextBlock, kind: .text) }
            return out + AnthropicWire.textDelta(piece, index: open!.index)
        case .toolCall(let call):
            var out = ""
            if let id = call.id {
                out += start(AnthropicWire.toolUse(id: id, name: call.name ?? ""), kind: .toolUse)
            }
            guard let index = open?.index, !call.arguments.isEmpty else { return out.isEmpty ? nil : out }
            return out + AnthropicWire.inputDelta(call.arguments, index: index)
        case .done(let done):
            ended = true
            // An answer with no block at all still has its (empty) text block, as Anthropic sends one.
            let first = answered ? "" : start(AnthropicWire.emptyTextBlock, kind: .text)
            return first + stop() + AnthropicWire.closing(done)
        case .error(let failure):
            ended = true
            return AnthropicWire.streamError(failure)
        case .reasoning(let piece):
            guard showsThinking else { return nil }
            var out = ""
            if open?.kind != .thinking { out += start(AnthropicWire.thinkingBlock(""), kind: .thinking) }
            return out + AnthropicWire.thinkingDelta(piece, index: open!.index)
        case .signedThinking(.thinking(_, let signature)):
            guard showsThinking else { return nil }
            var out = ""
            if open?.kind != .thinking { out += start(AnthropicWire.thinkingBlock(""), kind: .thinking) }
            return out + AnthropicWire.signatureDelta(signature, index: open!.index) + stop()
        case .signedThinking(let block):
            guard showsThinking else { return nil }
            return start(block.json, kind: .thinking) + stop()
        case .meta, .status, .logprobs:
            return nil
        }
    }

    /// Stops the open block and starts the next; the first is followed by a ping, in Anthropic's order.
    private mutating func start(_ block: String, kind: Kind) -> String {
        let out = stop() + AnthropicWire.blockStart(nextIndex, block)
            + (nextIndex == 0 ? AnthropicWire.event("ping", "{\"type\":\"ping\"}") : "")
        open = (nextIndex, kind)
        nextIndex += 1
        if kind != .thinking { answered = true }
        return out
    }

    private mutating func stop() -> String {
        guard let index = open?.index else { return "" }
        open = nil
        return AnthropicWire.blockStop(index)
    }
}

extension AnthropicWire {
    /// Anthropic's `anthropic-ratelimit-requests-` and `-tokens-` `limit`, `remaining` and `reset` (an RFC 3339 time)
    /// beside the OpenAI-style `x-ratelimit-*` headers a turn or a refusal carries, which stay: a client built on
    /// either API finds its own. The reset is `now` plus the OpenAI header's seconds, which Sluice wrote (`"12s"`).
    static func addRateLimitHeaders(to headers: inout HTTPFields, now: Date) {
        for kind in RateLimits.Kind.allCases {
            guard let limit = headers[HTTPField.Name("x-ratelimit-limit-\(kind.rawValue)")!] else { continue }
            let prefix = "anthropic-ratelimit-\(kind.rawValue)-"
            headers[HTTPField.Name(prefix + "limit")!] = limit
            headers[HTTPField.Name(prefix + "remaining")!] = headers[HTTPField.Name("x-ratelimit-remaining-\(kind.rawValue)")!]
            if let reset = headers[HTTPField.Name("x-ratelimit-reset-\(kind.rawValue)")!], let seconds = Int(reset.dropLast()) {
                headers[HTTPField.Name(prefix + "reset")!] = now.addingTimeInterval(TimeInterval(seconds)).ISO8601Format()
            }
        }
    }
}
