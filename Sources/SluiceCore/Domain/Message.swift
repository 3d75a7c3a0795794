import Foundation

/// Who wrote a message.
public enum MessageRole: String, Sendable, Codable {
    case system, user, assistant
    /// The result of a function the assistant called (`ChatMessage.toolCallID` names the call); gateway callers
    /// run their tools and send the results back.
    case tool
}

/// Where a message is in its life. Only assistant messages move beyond `complete`.
public enum MessageStatus: String, Sendable, Codable {
    /// Finished normally (every user message is `complete` once stored).
    case complete
    /// Tokens are still arriving.
    case streaming
    /// Ended early without a user's choice: the upstream or the client went away, or the process died.
    case partial
    /// The upstream failed before any text arrived.
    case error
    /// The user stopped it.
    case cancelled
    /// A user's message the prompt guard did not send upstream; `errorCode` names the rule that fired.
    case rejected
}

/// Who a usage figure comes from.
public enum UsageSource: String, Sendable, Codable {
    /// The upstream's own report (authoritative).
    case provider
    /// Sluice's count with the model's tokenizer, because the upstream reported nothing.
    case counted
}

/// Token counts of one assistant answer. `nil` means unknown: neither the provider nor Sluice could say.
///
/// `inputTokens` is the whole prompt, as OpenAI counts it: the part the provider read from its prompt cache
/// (`cachedInputTokens`) and the part it wrote there (`cacheWriteTokens`, Anthropic's cache creation) are
/// included in it, not added to it.
public struct Usage: Sendable, Equatable, Codable {
    public var inputTokens: Int?
    public var outputTokens: Int?
    public var totalTokens: Int?
    /// Where `inputTokens`/`outputTokens` come from; `nil` for figures stored before Sluice counted.
    public var source: UsageSource?
    /// Sluice's own counts, kept beside the provider's so that a disagreement stays visible.
    public var countedInputTokens: Int?
    public var countedOutputTokens: Int?
    /// Prompt tokens the provider served from its prompt cache (OpenAI's `cached_tokens`, Anthropic's
    /// `cache_read_input_tokens`); priced at the model's cached-input rate.
    public var cachedInputTokens: Int?
    /// Prompt tokens the provider wrote to its prompt cache (Anthropic's `cache_creation_input_tokens`); priced
    /// at the model's cache-write rate.
    public var cacheWriteTokens: Int?

    public init(
        inputTokens: Int?, outputTokens: Int?, totalTokens: Int?, source: UsageSource? = nil,
        countedInputTokens: Int? = nil, countedOutputTokens: Int? = nil, cachedInputTokens: Int? = nil,
        cacheWriteTokens: Int? = nil
    ) {
        self.cachedInputTokens = cachedInputTokens
        self.cacheWriteTokens = cacheWriteTokens
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.totalTokens = totalTokens
        self.source = source
        self.countedInputTokens = countedInputTokens
        self.countedOutputTokens = countedOutputTokens
    }

    /// No figures from the provider.
    public static let unknown = Usage(inputTokens: nil, outputTokens: nil, totalTokens: nil)
}

/// One message of a conversation, as stored.
public struct Message: Sendable, Equatable {
    public var id: String
    public var conversationID: String
    public var role: MessageRole
    public var content: String
    public var status: MessageStatus
    public var model: String?
    public var createdAt: Date
    public var usage: Usage?
    public var ttftMs: Int?
    public var durationMs: Int?
    public var finishReason: String?
    public var error: String?
    /// The machine-readable code of `error` (as in the stream's `error` event).
    public var errorCode: String?
    /// Where each streamed token ends in `content`, as UTF-8 byte offsets: token `seq` is the bytes between
    /// `tokenEnds[seq - 2]` (or 0) and `tokenEnds[seq - 1]`. Lets a client resume from any event id.
    public var tokenEnds: [Int]
    /// Regenerated answers share a group: the id of the first version. `nil` for a message with one version.
    public var versionGroup: String?
    /// True for a message out of the thread: a version of an answer or question other than the one shown, and the
    /// turns that followed such a version (another branch). Kept and listed, but not shown in the thread or sent
    /// upstream.
    public var superseded: Bool
    /// When the user last rewrote this answer's text (`ConversationStore.editAnswer`); `nil` as the model wrote it.
    public var editedAt: Date? = nil
    /// What the answer cost, summed over its upstream calls (a continued answer has several); `nil` when no
    /// call of it was charged.
    public var cost: USDAmount?
    /// How the context builder treats it: sent while recent (auto), always (pinned) or never (excluded).
    public var contextMode: ContextMode
    /// An assistant message's function calls (a gateway caller offered tools).
    public var toolCalls: [ToolCall]
    /// A `tool` message's call.
    public var toolCallID: String?
    /// What the user thought of this answer, when they said.
    public var feedback: AnswerFeedback?
    /// A user's message's text files, sent upstream in front of `content`.
    public var attachments: [Attachment] = []
    /// A user's message's images, sent upstream after its text to a model that sees images.
    public var images: [ImageInput] = []
    /// An answer's thinking (a reasoning model's `reasoning_content`), shown apart; never sent upstream again as
    /// such (only Anthropic's signed blocks of it go back, as `signedThinking`).
    public var reasoning: String?
    /// How long the model thought, from its first piece of thinking to its answer's first text.
    public var reasoningMs: Int?
    /// An Anthropic model's thinking as signed blocks, sent back in a function-calling loop (`SignedThinking`).
    public var signedThinking: [SignedThinking] = []
    /// An answer's sources: the parts of its project's files it was sent as excerpts (schema step 50).
    public var sources: [ExcerptSource] = []
    /// What its question asked of the user's memory ("Remember that …", "Forget that …"), on the answer (step 68).
    public var memory: MemoryNote?
    /// How many different personal details of each kind its question went upstream without, as placeholders
    /// (`--mask-personal-data`), on the answer (step 70); empty when none.
    public var personalDataMasked: [String: Int] = [:]

    public init(
        id: String, conversationID: String, role: MessageRole, content: String, status: MessageStatus,
        model: String?, createdAt: Date, usage: Usage? = nil, ttftMs: Int? = nil, durationMs: Int? = nil,
        finishReason: String? = nil, error: String? = nil, errorCode: String? = nil, tokenEnds: [Int] = [],
        versionGroup: String? = nil, superseded: Bool = false, cost: USDAmount? = nil, contextMode: ContextMode = .auto,
        toolCalls: [ToolCall] = [], toolCallID: String? = nil
    ) {
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
        self.contextMode = contextMode
        self.cost = cost
        self.versionGroup = versionGroup
        self.superseded = superseded
        self.errorCode = errorCode
        self.tokenEnds = tokenEnds
        self.id = id
        self.conversationID = conversationID
        self.role = role
        self.content = content
        self.status = status
        self.model = model
        self.createdAt = createdAt
        self.usage = usage
        self.ttftMs = ttftMs
        self.durationMs = durationMs
        self.finishReason = finishReason
        self.error = error
    }
}

/// What a user thought of an answer — 👍 or 👎, with an optional comment — as ChatGPT and Open WebUI ask, so that
/// operators can find the answers that went wrong and compare models.
public struct AnswerFeedback: Sendable, Equatable {
    public enum Rating: String, Sendable, CaseIterable {
        case good, bad
    }

    public var rating: Rating
    public var comment: String?
    public var at: Date

    public init(rating: Rating, comment: String?, at: Date) {
        self.rating = rating
        self.comment = comment
        self.at = at
    }
}

/// A rated answer as an operator reviews it (`sluice feedback list`): whose, which model, the rating, and the
/// question it answered.
public struct RatedAnswer: Sendable, Equatable {
    public var messageID: String
    public var conversationID: String
    public var userName: String
    public var model: String?
    public var feedback: AnswerFeedback
    /// The user's message before the answer; `nil` when there is none.
    public var question: String?
    public var answer: String

    public init(
        messageID: String, conversationID: String, userName: String, model: String?, feedback: AnswerFeedback,
        question: String?, answer: String
    ) {
        self.messageID = messageID
        self.conversationID = conversationID
        self.userName = userName
        self.model = model
        self.feedback = feedback
        self.question = question
        self.answer = answer
    }
}

/// The outcome of an assistant message, written when its stream ends.
public struct AssistantOutcome: Sendable, Equatable, Codable {
    public var content: String
    public var status: MessageStatus
    public var usage: Usage?
    public var ttftMs: Int?
    public var durationMs: Int?
    public var finishReason: String?
    public var error: String?
    public var errorCode: String?
    public var tokenEnds: [Int]
    /// The model that answered when it is not the one asked (a fallback took over); `nil` keeps the stored one.
    public var model: String?
    /// The function calls the answer made.
    public var toolCalls: [ToolCall]
    /// The answer's whole thinking (a continued answer's earlier thinking included); `nil` leaves what is stored.
    public var reasoning: String?
    /// How long the answer thought, all of it; `nil` leaves what is stored.
    public var reasoningMs: Int?
    /// This call's thinking as Anthropic signed it; empty when there is none to keep.
    public var signedThinking: [SignedThinking] = []
    /// The personal details masked in the call, by kind (`Message.personalDataMasked`); `nil` when none.
    public var personalDataMasked: [String: Int]?

    public init(
        content: String, status: MessageStatus, usage: Usage?, ttftMs: Int?, durationMs: Int?,
        finishReason: String?, error: String?, errorCode: String? = nil, tokenEnds: [Int] = [], model: String? = nil,
        toolCalls: [ToolCall] = [], reasoning: String? = nil, reasoningMs: Int? = nil
    ) {
        self.reasoning = reasoning
        self.reasoningMs = reasoningMs
        self.toolCalls = toolCalls
        self.model = model
        self.errorCode = errorCode
        self.tokenEnds = tokenEnds
        self.content = content
        self.status = status
        self.usage = usage
        self.ttftMs = ttftMs
        self.durationMs = durationMs
        self.finishReason = finishReason
        self.error = error
    }
}

extension Message {
    /// The message as it goes upstream: a user's files in front of their words.
    public var chatMessage: ChatMessage {
        ChatMessage(
            role: role, content: Attachment.prompt(attachments, then: content), toolCalls: toolCalls, toolCallID: toolCallID,
            images: images, thinking: signedThinking)
    }

    /// The text of tokens after `seq` (1-based), one string per token, from `content` and `tokenEnds`.
    public func tokens(after seq: Int) -> [String] {
        let bytes = Array(content.utf8)
        guard seq < tokenEnds.count else { return [] }
        return (max(seq, 0)..<tokenEnds.count).map { index in
            let start = index == 0 ? 0 : tokenEnds[index - 1]
            let end = min(tokenEnds[index], bytes.count)
            return String(decoding: bytes[min(start, end)..<end], as: UTF8.self)
        }
    }
}
