import Foundation
import Hummingbird
import SluiceCore

/// A conversation as the API returns it.
struct ConversationResource: ResponseEncodable {
    let id: String
    let title: String
    let model: String
    let systemPrompt: String?
    /// The gateway caller's end user (`Conversation.endUser`); left out when there is none.
    let endUser: String?
    let createdAt: Date
    let updatedAt: Date
    /// Present while the conversation is pinned or archived.
    let pinnedAt: Date?
    let archivedAt: Date?
    /// The project it is in (`Project`); left out when it is in none.
    var projectID: String?
    let messages: [MessageResource]?
    /// How full the conversation is (only when it is read alone): see `ContextFigures`.
    let tokensUsed: Int?
    let contextWindow: Int?
    let percent: Int?
    let tokensSpent: Int?
    /// A search's hit (`GET /api/conversations?q=`): the words in the first message that has them, with some text
    /// around them.
    var snippet: String? = nil
    /// A temporary chat (`POST /api/conversations` with `temporary: true`): said when it is made.
    var temporary: Bool? = nil
    /// Its shared link, while it is shared (`POST /api/conversations/{id}/share`): read alone only.
    var shared: SharedAt? = nil
    /// The conversation a branch was made from, while it is there: read alone only.
    var branchedFrom: BranchOrigin? = nil
    /// `true` while its title is the first line of its first question, as a conversation is named until its first
    /// answer is written (read alone only): the web app then asks the title model for one, as after a first answer.
    var titleFromQuestion: Bool? = nil
    /// Its own sampling settings (`ConversationParameters`); left out when it has none.
    let parameters: ConversationParameters?

    struct BranchOrigin: Encodable {
        let conversationID: String
        let title: String
    }

    struct SharedAt: Encodable {
        let url: String
        let sharedAt: Date
    }

    init(_ conversation: Conversation, messages: [Message]? = nil, context: ContextFigures? = nil) {
        tokensUsed = context?.tokensUsed
        contextWindow = context?.contextWindow
        percent = context?.percent
        tokensSpent = context?.tokensSpent
        id = conversation.id
        title = conversation.title
        model = conversation.model
        systemPrompt = conversation.systemPrompt
        endUser = conversation.endUser
        createdAt = conversation.createdAt
        updatedAt = conversation.updatedAt
        pinnedAt = conversation.pinnedAt
        archivedAt = conversation.archivedAt
        projectID = conversation.projectID
        parameters = conversation.parameters
        self.messages = messages.map(MessageResource.thread)
    }
}

/// A message as the API returns it; the usage keys are present (possibly `null`) on assistant messages only.
struct MessageResource: ResponseEncodable {
    let id: String
    let role: MessageRole
    let content: String
    let status: MessageStatus
    let model: String?
    let createdAt: Date
    let usage: WireUsage?
    /// Sluice's own count, present only when it differs from the provider's figures (both are kept).
    let countedUsage: CountedUsage?
    /// Exact decimal USD, when the answer was charged.
    let costUSD: String?
    let ttftMs: Int?
    let durationMs: Int?
    let finishReason: String?
    let error: String?
    /// The machine-readable reason of `error`; for a `rejected` user message, the guard rule that fired.
    let errorCode: String?
    /// Ids of all versions of a regenerated answer or an edited question, oldest first (this one included); absent
    /// with one version.
    let versions: [String]?
    /// A question read alone (`GET /api/messages/{id}`): the answer it got, so an earlier version of an edited
    /// question is shown with its own answer.
    var answer: AnswerBox? = nil
    /// An assistant message's function calls (`{id, name, arguments}`); absent without any.
    let toolCalls: [ToolCall]?
    /// A `tool` message's call.
    let toolCallID: String?
    /// What the user thought of the answer; absent until they say.
    let feedback: WireFeedback?
    /// A user's message's text files (`{name, text}`); absent without any.
    let attachments: [Attachment]?
    /// A user's message's images (`{url, detail, media_type, width, height}`, `url` where to get each); absent without any.
    let images: [WireImage]?
    /// An answer's thinking (a reasoning model's) and how long it took; absent without any.
    let reasoning: String?
    let reasoningMs: Int?
    /// When the user rewrote this answer (`PATCH /api/messages/{id}`); absent as the model wrote it.
    let editedAt: Date?
    /// An answer's sources (`{file, lines}`): the parts of its project's files it was sent as excerpts; absent without any.
    let sources: [ExcerptSource]?
    /// What the answer's question asked of the user's memory (`{action, content, id?, forgotten?}`); absent when nothing.
    let memory: MemoryNote?
    /// How many different personal details of each kind the answer's call sent as placeholders (`{"email": 1}`);
    /// absent when none.
    let personalDataMasked: [String: Int]?

    init(_ message: Message, versions: [String]? = nil) {
        personalDataMasked = message.personalDataMasked.isEmpty ? nil : message.personalDataMasked
        memory = message.memory
        editedAt = message.editedAt
        sources = message.sources.isEmpty ? nil : message.sources
        attachments = message.attachments.isEmpty ? nil : message.attachments
        images = message.images.isEmpty ? nil : message.images.enumerated().map { WireImage($1, messageID: message.id, index: $0) }
        reasoning = message.reasoning
        reasoningMs = message.reasoningMs
        feedback = message.feedback.map(WireFeedback.init)
        toolCalls = message.toolCalls.isEmpty ? nil : message.toolCalls
        toolCallID = message.toolCallID
        self.versions = versions
        id = message.id
        role = message.role
        content = message.content
        status = message.status
        model = message.model
        createdAt = message.createdAt
        usage = message.role == .assistant ? WireUsage(message.usage) : nil
        costUSD = message.cost?.decimalString
        countedUsage = message.usage.flatMap(CountedUsage.init)
        ttftMs = message.ttftMs
        durationMs = message.durationMs
        finishReason = message.finishReason
        error = message.error
        errorCode = message.errorCode
    }
}

/// `{"rating": "good"|"bad", "comment"?, "at"}`: an answer's `AnswerFeedback`.
struct WireFeedback: ResponseEncodable {
    let rating: String
    let comment: String?
    let at: Date

    init(_ feedback: AnswerFeedback) {
        rating = feedback.rating.rawValue
        comment = feedback.comment
        at = feedback.at
    }
}

/// A message inside a message (`MessageResource.answer`), encoded as the message itself.
final class AnswerBox: Encodable, Sendable {
    let resource: MessageResource
    init(_ resource: MessageResource) { self.resource = resource }
    func encode(to encoder: any Encoder) throws { try resource.encode(to: encoder) }
}

extension MessageResource {
    /// The messages a thread shows: superseded versions left out, the versions of each answer and question listed on it.
    static func thread(_ messages: [Message]) -> [MessageResource] {
        var groups: [String: [String]] = [:]
        for message in messages { if let group = message.versionGroup { groups[group, default: []].append(message.id) } }
        return messages.filter { !$0.superseded }.map { MessageResource($0, versions: $0.versionGroup.flatMap { groups[$0] }) }
    }
}

struct ConversationList: ResponseEncodable {
    let conversations: [ConversationResource]
    /// Where the next page starts (`?cursor=`), while more remain after a page asked for with `?limit=`.
    var nextCursor: String? = nil
}

/// Reads a JSON object body and validates fields one by one, so each mistake gets its own clear message.
struct JSONObjectBody {
    let fields: [String: JSONValue]

    /// `maxBytes`: a larger limit than the context's, for a body that may carry files.
    init(request: Request, context: SluiceRequestContext, allowEmpty: Bool, maxBytes: Int? = nil) async throws {
        let limit = maxBytes ?? context.maxUploadSize
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError(
                .contentTooLarge, code: "too_large",
                message: "The request is larger than \(limit / 1024) KiB, the most Sluice reads here. Send less (shorter files, fewer of them).")
        }
        if buffer.readableBytes == 0, allowEmpty {
            fields = [:]
            return
        }
        guard case .object(let members)? = try? JSONValue(parsing: buffer.readableBytesView) else {
            throw APIError.invalid("The request body must be a JSON object, for example {\"content\": \"Hello\"}.")
        }
        // A name given twice means its last value, as JSONDecoder reads it.
        fields = Dictionary(members.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
    }

    /// The web app's `reasoning_effort` (OpenAI's levels) as sampling options; none when it is left out.
    func reasoningSampling() throws -> SamplingOptions {
        do {
            return SamplingOptions(reasoning: try ReasoningField.effort(optionalString("reasoning_effort", maxLength: 20), field: "reasoning_effort"))
        } catch let problem as ReasoningField.Problem {
            throw APIError.invalid(problem.message)
        }
    }

    /// Refuses a body with a field not in `known` (the first, by name) with a 400 whose message `message` writes from
    /// its name, so that a misspelt field is not dropped silently.
    func rejectingUnknownFields(_ known: Set<String>, message: (String) -> String) throws {
        if let unknown = fields.keys.sorted().first(where: { !known.contains($0) }) { throw APIError.invalid(message(unknown)) }
    }

    func optionalString(_ key: String, maxLength: Int = 10_000) throws -> String? {
        switch fields[key] {
        case nil, .null?: return nil
        case .string(let string)?:
            guard string.count <= maxLength else {
                throw APIError.invalid("'\(key)' is longer than \(maxLength) characters.")
            }
            return string
        default: throw APIError.invalid("'\(key)' must be text.")
        }
    }

    func optionalBool(_ key: String) throws -> Bool? {
        switch fields[key] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        default: throw APIError.invalid("'\(key)' must be true or false.")
        }
    }

    func optionalNumber(_ key: String, in range: ClosedRange<Double>) throws -> Double? {
        switch fields[key] {
        case nil, .null?: return nil
        case .number(let text)?:
            guard let number = Double(text), range.contains(number) else {
                throw APIError.invalid("'\(key)' must be between \(range.lowerBound) and \(range.upperBound); it was \(text).")
            }
            return number
        default: throw APIError.invalid("'\(key)' must be a number between \(range.lowerBound) and \(range.upperBound).")
        }
    }
}

/// How full a conversation is: the tokens its next request would carry (system prompt and context) against
/// the model's context window, and the tokens it has cost so far.
struct ContextFigures: Sendable {
    let tokensUsed: Int?
    let contextWindow: Int?
    let tokensSpent: Int?

    var percent: Int? {
        guard let tokensUsed, let contextWindow, contextWindow > 0 else { return nil }
        return tokensUsed * 100 / contextWindow
    }
}

/// Sluice's count of an answer beside a provider's report that says otherwise.
struct CountedUsage: Encodable, Sendable {
    let inputTokens: Int?
    let outputTokens: Int?

    init?(_ usage: Usage) {
        guard usage.source == .provider,
              usage.countedInputTokens != nil && usage.countedInputTokens != usage.inputTokens
                || usage.countedOutputTokens != nil && usage.countedOutputTokens != usage.outputTokens
        else { return nil }
        inputTokens = usage.countedInputTokens
        outputTokens = usage.countedOutputTokens
    }
}
