import Foundation
import SluiceCore

/// Turns the events of an Anthropic Messages stream into provider events: `message_start` (input tokens),
/// `content_block_delta` (text, or extended thinking as `.reasoning`), `message_delta` (stop reason, output tokens),
/// `message_stop`, `ping`, and `error` (`overloaded_error` becomes a 529 so it is retried like one before the first
/// token). A thinking block's end, with its `signature_delta`, and a `redacted_thinking` block are `.signedThinking`.
///
/// A turn that asked for JSON is answered through a tool (see `MessagesRequestBody`): the tool's input arrives as
/// `input_json_delta` pieces, which are the answer's text, and the model's `tool_use` stop is the answer's end.
struct AnthropicEventDecoder: StreamEventDecoder, Sendable {
    typealias Result = StreamStep

    /// Whether the request made the model answer through its JSON tool.
    let answersThroughTool: Bool

    init(answersThroughTool: Bool = false) {
        self.answersThroughTool = answersThroughTool
    }

    private(set) var sawStop = false
    private var inputTokens: Int?
    private var outputTokens: Int?
    private var cacheReadTokens: Int?
    private var cacheWriteTokens: Int?
    /// The call index of each `tool_use` content block, by the block's index (calls are numbered from 0).
    private var callIndexOfBlock: [Int: Int] = [:]
    /// The thinking block being read: its index, its text so far and its signature.
    private var thinkingBlock: (index: Int, text: String, signature: String)?
    private let decoder = JSONDecoder()

    private struct Event: Decodable {
        struct Message: Decodable { let usage: TokenUsage? }
        /// Anthropic's `input_tokens` leaves out the prompt's cached parts: they come as their own counts.
        struct TokenUsage: Decodable {
            let inputTokens: Int?
            let outputTokens: Int?
            let cacheReadInputTokens: Int?
            let cacheCreationInputTokens: Int?
            enum CodingKeys: String, CodingKey {
                case inputTokens = "input_tokens"
                case outputTokens = "output_tokens"
                case cacheReadInputTokens = "cache_read_input_tokens"
                case cacheCreationInputTokens = "cache_creation_input_tokens"
            }
        }
        struct Delta: Decodable {
            let type: String?
            let text: String?
            let thinking: String?
            let signature: String?
            let partialJSON: String?
            let stopReason: String?
            enum CodingKeys: String, CodingKey {
                case type, text, thinking, signature
                case partialJSON = "partial_json"
                case stopReason = "stop_reason"
            }
        }
        struct Failure: Decodable {
            let type: String?
            let message: String?
        }
        /// `content_block_start`'s block: a `tool_use` has its id and name, a `redacted_thinking` its `data`.
        struct ContentBlock: Decodable {
            let type: String
            let id: String?
            let name: String?
            let thinking: String?
            let data: String?
        }
        let type: String
        let index: Int?
        let contentBlock: ContentBlock?
        let message: Message?
        let delta: Delta?
        let usage: TokenUsage?
        let error: Failure?

        enum CodingKeys: String, CodingKey {
            case type, index, message, delta, usage, error
            case contentBlock = "content_block"
        }
    }

    mutating func decode(_ data: String) throws -> Result {
        let event: Event
        do {
            event = try decoder.decode(Event.self, from: Data(data.utf8))
        } catch {
            throw ProviderError.malformed("a stream event was not valid JSON")
        }
        switch event.type {
        case "message_start":
            let usage = event.message?.usage
            inputTokens = usage?.inputTokens
            outputTokens = usage?.outputTokens
            cacheReadTokens = usage?.cacheReadInputTokens
            cacheWriteTokens = usage?.cacheCreationInputTokens
            return .events([])
        case "content_block_start":
            guard let block = event.contentBlock, let index = event.index else { return .events([]) }
            switch block.type {
            case "thinking":
                let text = block.thinking ?? ""
                thinkingBlock = (index, text, "")
                return .events(text.isEmpty ? [] : [.reasoning(text)])
            case "redacted_thinking":
                return .events(block.data.map { [.signedThinking(.redacted(data: $0))] } ?? [])
            default: break
            }
            // A function call begins: its id and name; its input follows as `input_json_delta` pieces.
            guard !answersThroughTool, block.type == "tool_use" else { return .events([]) }
            let call = callIndexOfBlock.count
            callIndexOfBlock[index] = call
            return .events([.toolCall(ToolCallDelta(index: call, id: block.id ?? "", name: block.name ?? "", arguments: ""))])
        case "content_block_delta":
            if !answersThroughTool, event.delta?.type == "input_json_delta", let index = event.index, let call = callIndexOfBlock[index] {
                let piece = event.delta?.partialJSON ?? ""
                return .events(piece.isEmpty ? [] : [.toolCall(ToolCallDelta(index: call, arguments: piece))])
            }
            let text: String?
            switch event.delta?.type {
            case "thinking_delta":
                // Extended thinking, before the answer's text (and between its calls, when interleaved).
                let thinking = event.delta?.thinking ?? ""
                if let index = event.index, thinkingBlock?.index == index { thinkingBlock?.text += thinking }
                return .events(thinking.isEmpty ? [] : [.reasoning(thinking)])
            case "signature_delta":
                if let index = event.index, thinkingBlock?.index == index { thinkingBlock?.signature += event.delta?.signature ?? "" }
                return .events([])
            case "text_delta": text = event.delta?.text
            case "input_json_delta" where answersThroughTool: text = event.delta?.partialJSON
            default: text = nil
            }
            guard let text, !text.isEmpty else { return .events([]) }
            return .events([.delta(text)])
        case "message_delta":
            var events: [ProviderEvent] = []
            if let output = event.usage?.outputTokens { outputTokens = output }
            // Newer API versions repeat the prompt's counts here, cumulatively.
            if let input = event.usage?.inputTokens { inputTokens = input }
            if let read = event.usage?.cacheReadInputTokens { cacheReadTokens = read }
            if let written = event.usage?.cacheCreationInputTokens { cacheWriteTokens = written }
            if let reason = event.delta?.stopReason {
                sawStop = true
                // The JSON tool's call is the whole answer, ended as the model chose to end it.
                let ended = answersThroughTool && reason == "tool_use" ? "stop" : Self.finishReason(reason)
                events.append(.finish(reason: ended))
            }
            return .events(events)
        case "message_stop":
            sawStop = true
            // Sluice counts the whole prompt as input (as OpenAI does), its cached parts included.
            let prompt = inputTokens.map { $0 + (cacheReadTokens ?? 0) + (cacheWriteTokens ?? 0) }
            let total = prompt.flatMap { input in outputTokens.map { input + $0 } }
            return .events([.usage(Usage(
                inputTokens: prompt, outputTokens: outputTokens, totalTokens: total, cachedInputTokens: cacheReadTokens,
                cacheWriteTokens: cacheWriteTokens))])
        case "error":
            let message = event.error?.message ?? event.error?.type ?? "unknown upstream error"
            if event.error?.type == "overloaded_error" {
                throw ProviderError.http(status: 529, message: message, retryAfter: nil)
            }
            throw ProviderError.upstreamError(message: message)
        case "content_block_stop":
            // A thinking block ends: kept, signed, to be sent back in a function-calling loop.
            guard let block = thinkingBlock, block.index == event.index else { return .events([]) }
            thinkingBlock = nil
            return .events(block.signature.isEmpty ? [] : [.signedThinking(.thinking(text: block.text, signature: block.signature))])
        default:  // ping, and types added later
            return .events([])
        }
    }

    /// Anthropic's stop reasons in OpenAI's words, which the rest of Sluice speaks.
    static func finishReason(_ reason: String) -> String {
        switch reason {
        case "end_turn", "stop_sequence": "stop"
        case "max_tokens": "length"
        case "tool_use": "tool_calls"
        default: reason
        }
    }
}
