import Foundation
import SluiceCore

/// Turns the `data` of one Chat Completions SSE event into provider events.
struct ChunkDecoder: StreamEventDecoder, Sendable {
    typealias Result = StreamStep

    private(set) var sawFinish = false
    var sawStop: Bool { sawFinish }
    private let decoder = JSONDecoder()
    /// Set when the request prefills the answer: the start an upstream repeats is taken off its text.
    private var echo: EchoedPrefill?
    /// The text of the thinking block under way in LiteLLM's `thinking_blocks`, until its signature ends it.
    private var thinkingText = ""

    /// `prefill`: the text of the request's final assistant message, which the answer continues.
    init(prefill: String? = nil) {
        echo = prefill.map(EchoedPrefill.init)
    }

    mutating func decode(_ data: String) throws -> Result {
        let step = try decodeChunk(data)
        guard echo?.settled == false else { return step }
        switch step {
        case .event(let event): return .events(strippingEcho([event]))
        case .events(let events): return .events(strippingEcho(events))
        // llama-server ends with a finish reason before `[DONE]`, which passes on any text still held.
        case .endOfStream: return .endOfStream
        }
    }

    /// The events with the repeated start taken off their text; text still held goes out before anything that ends
    /// the text (a finish, a function call, the usage).
    private mutating func strippingEcho(_ events: [ProviderEvent]) -> [ProviderEvent] {
        var out: [ProviderEvent] = []
        for event in events {
            switch event {
            case .delta(let text):
                if let passed = echo?.take(text), !passed.isEmpty { out.append(.delta(passed)) }
            case .reasoning, .logprobs:
                out.append(event)
            default:
                if let rest = echo?.finish(), !rest.isEmpty { out.append(.delta(rest)) }
                out.append(event)
            }
        }
        return out
    }

    private mutating func decodeChunk(_ data: String) throws -> Result {
        if data == "[DONE]" { return .endOfStream }
        // Almost every chunk is one piece of text: the scanner reads it without JSONDecoder.
        if let choices = ChunkScanner.choices(data) {
            if choices.count == 1, let only = choices.first, only.index == 0, only.finishReason == nil, only.reasoning == nil,
                let content = only.content, !content.isEmpty
            {
                return .event(.delta(content))
            }
            return .events(events(of: choices))
        }
        let chunk: Chunk
        do {
            chunk = try decoder.decode(Chunk.self, from: Data(data.utf8))
        } catch {
            throw ProviderError.malformed("a stream chunk was not valid JSON")
        }
        if let error = chunk.error {
            throw ProviderError.upstreamError(message: error.message ?? error.type ?? "unknown upstream error")
        }
        var events = events(of: (chunk.choices ?? []).map {
            ChunkScanner.Choice(
                index: $0.index ?? 0, content: $0.delta?.content, finishReason: $0.finishReason,
                toolCalls: ($0.delta?.toolCalls ?? []).enumerated().map { position, call in
                    ToolCallDelta(
                        index: call.index ?? position, id: call.id, name: call.function?.name,
                        arguments: call.function?.arguments ?? "")
                },
                logprobs: $0.logprobs?.content?.map(\.entry) ?? [], reasoning: $0.delta?.reasoningContent ?? $0.delta?.reasoning)
        })
        if let blocks = chunk.choices?.first(where: { ($0.index ?? 0) == 0 })?.delta?.thinkingBlocks {
            events += signedThinking(blocks)
        }
        if let usage = chunk.usage { events.append(.usage(usage.counts)) }
        return .events(events)
    }

    /// LiteLLM's `thinking_blocks` pieces, gathered into Anthropic's signed blocks: a thinking block ends with the
    /// piece that carries its signature (its text came as `reasoning_content` too, and is shown from there).
    private mutating func signedThinking(_ pieces: [Chunk.Choice.ThinkingBlockChunk]) -> [ProviderEvent] {
        var events: [ProviderEvent] = []
        for piece in pieces {
            switch piece.type {
            case "thinking":
                thinkingText += piece.thinking ?? ""
                if let signature = piece.signature, !signature.isEmpty {
                    events.append(.signedThinking(.thinking(text: thinkingText, signature: signature)))
                    thinkingText = ""
                }
            case "redacted_thinking":
                if let data = piece.data, !data.isEmpty { events.append(.signedThinking(.redacted(data: data))) }
            default:
                break
            }
        }
        return events
    }

    /// The text and finish of the first choice (Sluice asks for one).
    private mutating func events(of choices: [ChunkScanner.Choice]) -> [ProviderEvent] {
        var events: [ProviderEvent] = []
        for choice in choices where choice.index == 0 {
            // Thinking comes before the text of the same chunk (a model thinks, then answers).
            if let reasoning = choice.reasoning, !reasoning.isEmpty { events.append(.reasoning(reasoning)) }
            // Before the text they describe, so that the turn can line them up with what it shows of it. Those of a
            // chunk of thinking alone (vLLM sends them) describe no text of the answer: left out.
            let thinkingOnly = choice.reasoning?.isEmpty == false && (choice.content ?? "").isEmpty
            if !choice.logprobs.isEmpty, !thinkingOnly { events.append(.logprobs(choice.logprobs)) }
            if let content = choice.content, !content.isEmpty { events.append(.delta(content)) }
            events += choice.toolCalls.map(ProviderEvent.toolCall)
            if let reason = choice.finishReason {
                sawFinish = true
                events.append(.finish(reason: reason))
            }
        }
        return events
    }
}

/// The parts of a `chat.completion.chunk` Sluice reads.
struct Chunk: Decodable {
    struct Choice: Decodable {
        struct Delta: Decodable {
            let content: String?
            let toolCalls: [ToolCallChunk]?
            let reasoningContent: String?
            let reasoning: String?
            /// LiteLLM's `thinking_blocks` (an Anthropic model behind it): pieces of a thinking block's text, then its
            /// `signature`; or a whole `redacted_thinking` block.
            let thinkingBlocks: [ThinkingBlockChunk]?
            enum CodingKeys: String, CodingKey {
                case content, reasoning
                case toolCalls = "tool_calls"
                case reasoningContent = "reasoning_content"
                case thinkingBlocks = "thinking_blocks"
            }

            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                content = try container.decodeIfPresent(String.self, forKey: .content)
                toolCalls = try container.decodeIfPresent([ToolCallChunk].self, forKey: .toolCalls)
                // Thinking is read where it is text; a server whose `reasoning` is something else is not broken by it.
                reasoningContent = try? container.decodeIfPresent(String.self, forKey: .reasoningContent)
                reasoning = try? container.decodeIfPresent(String.self, forKey: .reasoning)
                thinkingBlocks = try? container.decodeIfPresent([ThinkingBlockChunk].self, forKey: .thinkingBlocks)
            }
        }
        struct ThinkingBlockChunk: Decodable {
            let type: String?
            let thinking: String?
            let signature: String?
            let data: String?
        }
        /// A piece of a function call: the first of a call has its id and name.
        struct ToolCallChunk: Decodable {
            struct Function: Decodable {
                let name: String?
                let arguments: String?
            }
            let index: Int?
            let id: String?
            let function: Function?
        }
        /// `logprobs.content`: one entry per token of the delta.
        struct Logprobs: Decodable {
            struct Entry: Decodable {
                let token: String
                let logprob: Double
                let bytes: [UInt8]?
                let topLogprobs: [Entry]?
                enum CodingKeys: String, CodingKey {
                    case token, logprob, bytes
                    case topLogprobs = "top_logprobs"
                }

                var entry: TokenLogprob {
                    TokenLogprob(
                        token: token, logprob: logprob, bytes: bytes,
                        topLogprobs: (topLogprobs ?? []).map { .init(token: $0.token, logprob: $0.logprob, bytes: $0.bytes) })
                }
            }
            let content: [Entry]?
        }
        let index: Int?
        let delta: Delta?
        let finishReason: String?
        let logprobs: Logprobs?
        enum CodingKeys: String, CodingKey {
            case index, delta, logprobs
            case finishReason = "finish_reason"
        }
    }
    struct ChunkUsage: Decodable {
        /// `cached_tokens`: the part of the prompt the server read from its prompt cache (OpenAI, llama-server,
        /// vLLM with prefix caching).
        struct PromptDetails: Decodable {
            let cachedTokens: Int?
            enum CodingKeys: String, CodingKey { case cachedTokens = "cached_tokens" }
        }
        let promptTokens: Int?
        let completionTokens: Int?
        let totalTokens: Int?
        let promptTokensDetails: PromptDetails?
        enum CodingKeys: String, CodingKey {
            case promptTokens = "prompt_tokens"
            case completionTokens = "completion_tokens"
            case totalTokens = "total_tokens"
            case promptTokensDetails = "prompt_tokens_details"
        }

        /// Sluice's usage: the total, when the upstream leaves it out, is input plus output.
        var counts: Usage {
            Usage(
                inputTokens: promptTokens, outputTokens: completionTokens,
                totalTokens: totalTokens ?? promptTokens.flatMap { p in completionTokens.map { p + $0 } },
                cachedInputTokens: promptTokensDetails?.cachedTokens)
        }
    }
    let choices: [Choice]?
    let usage: ChunkUsage?
    let error: ErrorEnvelope.Body?
}
