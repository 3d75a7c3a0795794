import Foundation

/// One call as the usage ledger and its answer keep it: who made it with which key, for which end user and under
/// which tags, on which model, what it used and cost, how fast its answer came and how it ended — a row of the usage
/// page's Calls, as LiteLLM's request logs and OpenAI's dashboard list each request. It says nothing of what was
/// asked or answered: the conversation (`conversationID`, for its owner) holds that.
public struct CallRecord: Sendable, Equatable {
    /// How a call ended, from its ledger row's state and its answer's status.
    public enum Outcome: String, Sendable, CaseIterable {
        /// Still answering (its hold is live).
        case running
        /// Answered in full.
        case complete
        /// The user (or the client) stopped it; what was written is kept and charged.
        case stopped
        /// The upstream failed, before any text or part way through.
        case failed
        /// Answered from the response cache: charged nothing.
        case cached
    }

    /// The ledger row's id.
    public let id: String
    public let at: Date
    public let userID: String
    /// The user's name now (`nil`: a deleted user's row).
    public let userName: String?
    public let model: String
    public let outcome: Outcome
    public let inputTokens: Int
    public let outputTokens: Int
    /// The part of `inputTokens` the provider read from its prompt cache.
    public let cachedInputTokens: Int
    public let cost: USDAmount
    /// The conversation the call was kept in; `nil` for a call that is none (embeddings, rerank, text completions).
    public let conversationID: String?
    public let conversationTitle: String?
    /// The labelled API key it was made with (`nil`: the user's own token, as the web app uses).
    public let apiKeyID: String?
    public let apiKeyLabel: String?
    /// The gateway caller's end user (OpenAI's `user`).
    public let endUser: String?
    /// The team the user was in when it was made, by its name now (`nil`: none, or a deleted team).
    public let teamName: String?
    public let tags: [String]
    /// Milliseconds to the answer's first token, and to its end; `nil` where no answer was kept.
    public let firstTokenMilliseconds: Int?
    public let durationMilliseconds: Int?
    /// The upstream's finish reason (`stop`, `length`, `tool_calls`…) and, for a failed answer, its error's code.
    public let finishReason: String?
    public let errorCode: String?

    public init(
        id: String, at: Date, userID: String, userName: String?, model: String, outcome: Outcome, inputTokens: Int,
        outputTokens: Int, cachedInputTokens: Int, cost: USDAmount, conversationID: String?, conversationTitle: String?,
        apiKeyID: String?, apiKeyLabel: String?, endUser: String?, teamName: String?, tags: [String],
        firstTokenMilliseconds: Int?, durationMilliseconds: Int?, finishReason: String?, errorCode: String?
    ) {
        self.id = id
        self.at = at
        self.userID = userID
        self.userName = userName
        self.model = model
        self.outcome = outcome
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cachedInputTokens = cachedInputTokens
        self.cost = cost
        self.conversationID = conversationID
        self.conversationTitle = conversationTitle
        self.apiKeyID = apiKeyID
        self.apiKeyLabel = apiKeyLabel
        self.endUser = endUser
        self.teamName = teamName
        self.tags = tags
        self.firstTokenMilliseconds = firstTokenMilliseconds
        self.durationMilliseconds = durationMilliseconds
        self.finishReason = finishReason
        self.errorCode = errorCode
    }
}

/// Which calls to list (`CallLogStore.calls`), the newest first: one user's or (`userID` `nil`) everyone's, narrowed
/// by any of the other fields; `since`: only calls made then or later; `before` is the id of the last call of the
/// page before.
public struct CallLogQuery: Sendable, Equatable {
    public var userID: String?
    public var model: String?
    /// A labelled key's id; `""`: the user's own token.
    public var apiKeyID: String?
    public var endUser: String?
    public var tag: String?
    public var outcome: CallRecord.Outcome?
    public var since: Date?
    public var before: String?
    public var limit: Int

    public init(
        userID: String?, model: String? = nil, apiKeyID: String? = nil, endUser: String? = nil, tag: String? = nil,
        outcome: CallRecord.Outcome? = nil, since: Date? = nil, before: String? = nil, limit: Int = 50
    ) {
        self.since = since
        self.userID = userID
        self.model = model
        self.apiKeyID = apiKeyID
        self.endUser = endUser
        self.tag = tag
        self.outcome = outcome
        self.before = before
        self.limit = limit
    }
}
