import Foundation

/// The events of one chat turn as the client receives them over SSE (see docs/api.md).
///
/// Every case but `token` is boxed (`indirect`): a turn has hundreds of tokens and one `meta` and one end, and an
/// enum is as large as its largest case — unboxed, `done` made every token event 410 bytes, copied at each hop
/// from the upstream to the client and kept in every async frame that holds an event; boxed, an event is 41.
public enum TurnEvent: Sendable, Equatable {
    /// First event, before the upstream answers.
    indirect case meta(Meta)
    /// One upstream delta; `seq` counts from 1 within the assistant message.
    case token(messageID: String, seq: Int, text: String)
    /// A piece of a function call the answer makes (only when a gateway caller offered tools).
    indirect case toolCall(ToolCallDelta)
    /// The log probabilities of the text of the next `token` (only when a gateway caller asked for `logprobs`;
    /// see `LogprobAligner` for what they cover where the answer was redacted).
    indirect case logprobs([TokenLogprob])
    /// A piece of a reasoning model's thinking, shown apart from the answer (redacted as the answer is).
    indirect case reasoning(String)
    /// The thinking since the last such event, signed by Anthropic (or a block it encrypted): what a gateway
    /// caller sends back in a function-calling loop. Only when the thinking was shown unredacted.
    indirect case signedThinking(SignedThinking)
    /// Progress that is not text (retries, fallbacks, queueing).
    indirect case status(Status)
    /// The answer is complete; the stream ends.
    indirect case done(Done)
    /// The turn failed; the stream ends.
    indirect case error(Failure)

    public struct Meta: Sendable, Equatable, Codable {
        public var conversationID: String
        public var userMessageID: String
        public var assistantMessageID: String
        public var model: String
        /// What of the conversation went upstream; `nil` when the model's window or tokenizer is unknown.
        public var context: ContextInfo?
        /// What the user's message asked Sluice to remember or forget, done as the turn began; `nil` when it asked
        /// neither.
        public var memory: MemoryNote?

        public init(
            conversationID: String, userMessageID: String, assistantMessageID: String, model: String,
            context: ContextInfo? = nil
        ) {
            self.context = context
            self.conversationID = conversationID
            self.userMessageID = userMessageID
            self.assistantMessageID = assistantMessageID
            self.model = model
        }

        enum CodingKeys: String, CodingKey {
            case conversationID = "conversation_id"
            case userMessageID = "user_message_id"
            case assistantMessageID = "assistant_message_id"
            case model, context, memory
        }
    }

    /// How a turn's request was built from the conversation (the `context` of `meta`).
    public struct ContextInfo: Sendable, Equatable, Codable {
        /// Earlier messages sent in full.
        public var messagesInFull: Int
        /// Earlier messages represented by the running summary.
        public var messagesSummarised: Int
        /// Earlier messages the user excluded.
        public var messagesExcluded: Int
        /// Earlier messages that did not fit and are not summarised (the summariser failed or is off).
        public var messagesOutOfWindow: Int
        /// Messages folded into the summary while this turn was built.
        public var summarisedNow: Int
        /// The request's input tokens, counted exactly.
        public var inputTokens: Int
        /// The most input tokens the model's window allows a request.
        public var inputBudget: Int

        public init(
            messagesInFull: Int, messagesSummarised: Int, messagesExcluded: Int, messagesOutOfWindow: Int,
            summarisedNow: Int, inputTokens: Int, inputBudget: Int
        ) {
            self.messagesInFull = messagesInFull
            self.messagesSummarised = messagesSummarised
            self.messagesExcluded = messagesExcluded
            self.messagesOutOfWindow = messagesOutOfWindow
            self.summarisedNow = summarisedNow
            self.inputTokens = inputTokens
            self.inputBudget = inputBudget
        }

        enum CodingKeys: String, CodingKey {
            case messagesInFull = "messages_in_full"
            case messagesSummarised = "messages_summarised"
            case messagesExcluded = "messages_excluded"
            case messagesOutOfWindow = "messages_out_of_window"
            case summarisedNow = "summarised_now"
            case inputTokens = "input_tokens"
            case inputBudget = "input_budget"
        }
    }

    /// Progress that is not text. `state` says what is happening (`retrying`, …); the other fields belong to it.
    public struct Status: Sendable, Equatable, Codable {
        public var state: String
        /// For `retrying`: which retry comes next (from 1), of at most `maxAttempts`.
        public var attempt: Int?
        public var maxAttempts: Int?
        /// For `retrying`: how long Sluice waits before it.
        public var waitMs: Int?
        /// Why: `rate_limited`, `overloaded`, `server_error`, `connection_failed`, `circuit_open`.
        public var reason: String?
        /// For `queued`: the 1-based place in the upstream's queue.
        public var position: Int?
        /// For `fallback`: the model that failed and the one that answers instead.
        public var from: String?
        public var to: String?

        public init(
            state: String, attempt: Int? = nil, maxAttempts: Int? = nil, waitMs: Int? = nil, reason: String? = nil,
            position: Int? = nil, from: String? = nil, to: String? = nil
        ) {
            self.from = from
            self.to = to
            self.position = position
            self.state = state
            self.attempt = attempt
            self.maxAttempts = maxAttempts
            self.waitMs = waitMs
            self.reason = reason
        }

        enum CodingKeys: String, CodingKey {
            case state, attempt, reason, position, from, to
            case maxAttempts = "max_attempts"
            case waitMs = "wait_ms"
        }
    }

    public struct Done: Sendable, Equatable, Codable {
        public var usage: WireUsage
        public var ttftMs: Int?
        public var durationMs: Int
        public var finishReason: String?
        public var model: String
        /// What the turn cost in USD, as an exact decimal string; `nil` when the model has no known price.
        public var costUSD: String?
        /// The user's token budget after the turn.
        public var budget: WireBudget?
        /// Tokens this conversation has used so far, this turn included.
        public var conversationTokens: Int?
        /// True when every model failed and this is the earlier answer to the identical temperature-0 request.
        public var cached: Bool?
        /// True when the answer came from the response cache (`--response-cache-seconds`): the stored answer to an
        /// identical gateway call, charged nothing.
        public var cacheHit: Bool?
        /// The parts of the project's files the turn sent as excerpts (`ExcerptSource`); `nil` when none.
        public var sources: [ExcerptSource]?
        /// How many different personal details of each kind (`email`, `phone`, `card`, `iban`, `ssn`) the model got
        /// as placeholders instead (`--mask-personal-data`); `nil` when none.
        public var personalDataMasked: [String: Int]?

        public init(
            usage: WireUsage, ttftMs: Int?, durationMs: Int, finishReason: String?, model: String, costUSD: String? = nil,
            budget: WireBudget? = nil, conversationTokens: Int? = nil, cached: Bool? = nil, cacheHit: Bool? = nil
        ) {
            self.cached = cached
            self.cacheHit = cacheHit
            self.costUSD = costUSD
            self.budget = budget
            self.conversationTokens = conversationTokens
            self.usage = usage
            self.ttftMs = ttftMs
            self.durationMs = durationMs
            self.finishReason = finishReason
            self.model = model
        }

        enum CodingKeys: String, CodingKey {
            case usage, model, budget, cached
            case cacheHit = "cache_hit"
            case sources
            case personalDataMasked = "personal_data_masked"
            case costUSD = "cost_usd"
            case conversationTokens = "conversation_tokens"
            case ttftMs = "ttft_ms"
            case durationMs = "duration_ms"
            case finishReason = "finish_reason"
        }
    }

    public struct Failure: Sendable, Equatable, Codable, Error {
        public var code: String
        public var message: String
        public var retryable: Bool
        public var partial: Bool

        public init(code: String, message: String, retryable: Bool, partial: Bool) {
            self.code = code
            self.message = message
            self.retryable = retryable
            self.partial = partial
        }
    }

    /// The SSE wire form of the event.
    public var serverSentEvent: ServerSentEvent {
        switch self {
        case .meta(let meta): ServerSentEvent(event: "meta", data: JSONText.encode(meta))
        case .token(let messageID, let seq, let text):
            ServerSentEvent(event: "token", data: "{\"token\":\(JSONText.quote(text))}", id: "\(messageID):\(seq)")
        case .toolCall(let call):
            ServerSentEvent(
                event: "tool_call",
                data: "{\"index\":\(call.index),\"id\":\(call.id.map(JSONText.quote) ?? "null"),"
                    + "\"name\":\(call.name.map(JSONText.quote) ?? "null"),\"arguments\":\(JSONText.quote(call.arguments))}")
        case .logprobs(let entries): ServerSentEvent(event: "logprobs", data: TokenLogprob.choiceJSON(entries))
        case .reasoning(let text): ServerSentEvent(event: "reasoning", data: "{\"text\":\(JSONText.quote(text))}")
        case .signedThinking(let block): ServerSentEvent(event: "thinking_signed", data: block.json)
        case .status(let status): ServerSentEvent(event: "status", data: JSONText.encode(status))
        case .done(let done): ServerSentEvent(event: "done", data: JSONText.encode(done))
        case .error(let failure): ServerSentEvent(event: "error", data: JSONText.encode(failure))
        }
    }
}

/// Token counts on the wire: always all four keys, `null` when unknown. `source` is `provider` when the
/// upstream reported them and `counted` when Sluice counted them with the model's tokenizer.
public struct WireUsage: Sendable, Equatable, Codable {
    public var inputTokens: Int?
    public var outputTokens: Int?
    public var totalTokens: Int?
    public var source: UsageSource?
    /// Parts of `inputTokens` read from, and written to, the provider's prompt cache; sent only when known.
    public var cachedInputTokens: Int?
    public var cacheWriteTokens: Int?

    public init(_ usage: Usage?) {
        inputTokens = usage?.inputTokens
        outputTokens = usage?.outputTokens
        totalTokens = usage?.totalTokens
        source = usage?.source
        cachedInputTokens = usage?.cachedInputTokens
        cacheWriteTokens = usage?.cacheWriteTokens
    }

    enum CodingKeys: String, CodingKey {
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"
        case totalTokens = "total_tokens"
        case source
        case cachedInputTokens = "cached_input_tokens"
        case cacheWriteTokens = "cache_write_tokens"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(inputTokens, forKey: .inputTokens)
        try container.encode(outputTokens, forKey: .outputTokens)
        try container.encode(totalTokens, forKey: .totalTokens)
        try container.encode(source, forKey: .source)
        try container.encodeIfPresent(cachedInputTokens, forKey: .cachedInputTokens)
        try container.encodeIfPresent(cacheWriteTokens, forKey: .cacheWriteTokens)
    }
}
