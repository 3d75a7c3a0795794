import Foundation

extension Plan {
    /// The tokens a plan may spend per budget period; `nil` is unlimited.
    public var defaultTokenLimit: Int? {
        switch self {
        case .free: 4_000
        case .pro: 50_000
        case .unlimited: nil
        }
    }
}

/// How close a user is to their token limit: warnings at 75 % and 90 %, refusal at 100 %.
public enum BudgetLevel: String, Sendable, Codable {
    case ok
    case warn75 = "warn_75"
    case warn90 = "warn_90"
    case exceeded

    public init(used: Int, limit: Int?) {
        guard let limit else { self = .ok; return }
        guard limit > 0 else { self = .exceeded; return }
        switch used * 100 / limit {
        case 100...: self = .exceeded
        case 90...: self = .warn90
        case 75...: self = .warn75
        default: self = .ok
        }
    }
}

/// A daily spending limit in dollars: warned at 90 %, enforced at 100 %. Days are UTC days.
public struct DollarBudget: Sendable, Equatable {
    public var limit: USDAmount
    /// Settled today plus the most that running turns may still cost.
    public var spent: USDAmount
    public var resetAt: Date

    public init(limit: USDAmount, spent: USDAmount, resetAt: Date) {
        self.limit = limit
        self.spent = spent
        self.resetAt = resetAt
    }

    public var remaining: USDAmount { USDAmount(picodollars: max(0, limit.picodollars - spent.picodollars)) }
    public var percent: Int { limit.picodollars > 0 ? Int(min(100, spent.picodollars * 100 / limit.picodollars)) : 100 }
    /// `ok`, `warn_90` from 90 %, `exceeded` at 100 %.
    public var level: BudgetLevel {
        switch percent {
        case 100...: .exceeded
        case 90...: .warn90
        default: .ok
        }
    }
}

/// A user's token budget for the current period, and the daily dollar budgets that apply to them.
public struct BudgetState: Sendable, Equatable {
    public var plan: Plan
    /// Tokens settled this period plus tokens held by turns still running.
    public var used: Int
    /// `nil`: unlimited.
    public var limit: Int?
    /// When `used` goes back to zero.
    public var resetAt: Date
    /// The user's own daily spending limit, if one is set.
    public var dailyDollars: DollarBudget?
    /// The whole service's daily spending limit, if the operator set one.
    public var globalDailyDollars: DollarBudget?
    /// What each of the user's end users (the gateway's `user` field) may spend a day, if the user has a limit.
    public var endUserDailyLimit: USDAmount?
    /// The user's rate limits (per minute, answers at once) and their use now, if the user has any.
    public var rateLimits: RateLimits?
    /// The user's team, if they are in one, and its day under its limit.
    public var team: TeamBudget?

    public init(
        plan: Plan, used: Int, limit: Int?, resetAt: Date, dailyDollars: DollarBudget? = nil,
        globalDailyDollars: DollarBudget? = nil, endUserDailyLimit: USDAmount? = nil, rateLimits: RateLimits? = nil,
        team: TeamBudget? = nil
    ) {
        self.team = team
        self.endUserDailyLimit = endUserDailyLimit
        self.rateLimits = rateLimits
        self.plan = plan
        self.used = used
        self.limit = limit
        self.resetAt = resetAt
        self.dailyDollars = dailyDollars
        self.globalDailyDollars = globalDailyDollars
    }

    public var remaining: Int? { limit.map { max(0, $0 - used) } }
    public var level: BudgetLevel { BudgetLevel(used: used, limit: limit) }
    /// Whole percent used, `nil` when unlimited.
    public var percent: Int? { limit.map { $0 > 0 ? min(100, used * 100 / $0) : 100 } }
}

/// Tokens held for one turn before its upstream call; settled to the actual usage when the turn ends.
public struct BudgetHold: Sendable, Equatable {
    public var id: String
    public var userID: String
    /// Input plus the output allowance.
    public var reservedTokens: Int
    /// The most output tokens the turn may generate (`max_tokens` upstream); `nil` when unlimited.
    public var outputAllowance: Int?
    /// The user's rate limits and their use with this hold counted, if the user has any (OpenAI's x-ratelimit-*).
    public var rateLimits: RateLimits?
    /// The same for the turn's labelled key, if it has rate limits of its own (`HoldRequest.apiKeyRateCaps`).
    public var keyRateLimits: RateLimits?

    public init(
        id: String, userID: String, reservedTokens: Int, outputAllowance: Int?, rateLimits: RateLimits? = nil,
        keyRateLimits: RateLimits? = nil
    ) {
        self.rateLimits = rateLimits
        self.keyRateLimits = keyRateLimits
        self.id = id
        self.userID = userID
        self.reservedTokens = reservedTokens
        self.outputAllowance = outputAllowance
    }
}

/// Rows stored in a hold's transaction whether the hold is granted or not: a turn's new message (after, for a
/// conversation the caller has only made, the conversation and its earlier messages). The message is then
/// committed with its hold — one commit before the first token instead of two — and is kept when the hold is
/// refused.
public struct HoldPrelude: Sendable {
    /// Created first when set (the caller made it and has not stored it).
    public var conversation: Conversation?
    public var messages: [Message]

    public init(conversation: Conversation? = nil, messages: [Message]) {
        self.conversation = conversation
        self.messages = messages
    }
}

/// What a budget store needs to hold tokens for a turn.
public struct HoldRequest: Sendable {
    public var userID: String
    public var conversationID: String
    public var messageID: String
    public var model: String
    /// The input tokens, counted exactly: the least that must fit (with one output token).
    public var inputTokens: Int
    /// The output the turn would like to be able to generate.
    public var wantedOutput: Int
    /// What the model costs: the hold also reserves the most the turn may cost against daily dollar budgets.
    public var price: ModelPrice
    /// A hold older than this is stale (a crashed turn) and no longer counts.
    public var expiresAfter: TimeInterval
    /// The answer's row (status `streaming`), stored in the same transaction when the hold is granted and not
    /// at all when it is refused: one commit less before the first token. `nil`: the caller stores (or reopens)
    /// the answer itself.
    public var answer: Message?
    /// Stored first, granted or not (`HoldPrelude`).
    public var prelude: HoldPrelude?
    /// The labelled key (`APIKey.id`) the turn's request was made with; `nil` for the user's own token. Kept on the
    /// ledger's row: usage per key (`UsageGrouping.apiKey`).
    public var apiKeyID: String?
    /// The key's own daily spending limit (`APIKey.dailyDollarLimit`): what its turns today, held ones too, may spend.
    public var apiKeyDailyLimit: USDAmount?
    /// The key's own rate limits (`APIKey.rateCaps`): its turns in the last minute and running now, counted apart
    /// from its user's other turns.
    public var apiKeyRateCaps = RateCaps.none
    /// The end user a call names when it has no conversation to read one from (an embeddings call's `user`): the
    /// hold keeps the call within that end user's daily limit and its ledger row counts in the end user's day.
    /// `nil`: the conversation's end user, if it has one.
    public var endUser: String?
    /// An answer after the first of a call for several (OpenAI's `n`), each held on its own: its tokens count against
    /// the budgets and the tokens per minute, but it is neither a request per minute nor a running request — the
    /// call is one, counted by its first answer, as OpenAI and LiteLLM count it.
    public var extraAnswer = false
    /// The caller's tags for the turn (`UsageTags`), kept on the ledger's row: usage per tag (`UsageGrouping.tag`).
    public var tags: [String] = []

    public init(
        userID: String, conversationID: String, messageID: String, model: String, inputTokens: Int, wantedOutput: Int,
        price: ModelPrice = .free, expiresAfter: TimeInterval = 3600, answer: Message? = nil
    ) {
        self.answer = answer
        self.price = price
        self.userID = userID
        self.conversationID = conversationID
        self.messageID = messageID
        self.model = model
        self.inputTokens = inputTokens
        self.wantedOutput = wantedOutput
        self.expiresAfter = expiresAfter
    }
}

/// How usage history is bucketed.
public enum UsageGrouping: String, Sendable, CaseIterable {
    case day, conversation, model
    /// The conversations' `endUser` (the gateway's `user` field); turns without one, or of a deleted
    /// conversation, are the bucket with the empty key.
    case endUser = "end_user"
    /// The labelled API key each turn was made with (`APIKey`, LiteLLM's spend per virtual key): the key's id,
    /// labelled with its label; turns made with the user's own token are the bucket with the empty key.
    case apiKey = "key"
    /// The project each turn's conversation is in now (`Project`), labelled with its name; turns of conversations in
    /// no project (or deleted ones, or no conversation) are the bucket with the empty key.
    case project
    /// The user each turn was made by, labelled with the user's name: everyone's usage, for an administrator (or
    /// `sluice usage report`).
    case user
    /// The team each turn's user was in when it was held (`Team`), labelled with the team's name (none for a deleted
    /// team); turns outside any team are the bucket with the empty key. LiteLLM's spend per team.
    case team
    /// The tags the caller gave each turn (`UsageTags`, LiteLLM's spend per tag): a turn counts in the bucket of every
    /// tag it has, so the buckets may add up to more than the whole; untagged turns are the bucket with the empty key.
    case tag
}

/// The settled usage of one bucket of history (a day, a conversation, a model, an end user or an API key).
public struct UsageBucket: Sendable, Equatable {
    /// `2026-11-25` (UTC day), a conversation id, a model name, an end user or an API key's id (`""`: none).
    public var key: String
    /// A conversation's title or an API key's label; `nil` for other groupings, a deleted conversation or the user's
    /// own token.
    public var label: String?
    public var inputTokens: Int
    public var outputTokens: Int
    public var totalTokens: Int
    public var cost: USDAmount
    /// Every answer, those from the response cache included.
    public var turns: Int
    /// When the bucket's latest turn was made.
    public var lastTurnAt: Date?
    /// The answers that came from the response cache (charged nothing), and the tokens and cost they saved.
    public var cacheHits: Int
    public var savedTokens: Int
    public var savedCost: USDAmount
    /// The answers users rated 👍 and 👎 (`AnswerFeedback`): per model, how the models compare.
    public var ratedGood: Int
    public var ratedBad: Int
    /// The part of `inputTokens` the providers read from their prompt caches (billed at the cached-input rate).
    public var cachedInputTokens: Int

    public init(
        key: String, label: String?, inputTokens: Int, outputTokens: Int, totalTokens: Int, cost: USDAmount, turns: Int,
        lastTurnAt: Date? = nil, cacheHits: Int = 0, savedTokens: Int = 0, savedCost: USDAmount = .zero, ratedGood: Int = 0,
        ratedBad: Int = 0, cachedInputTokens: Int = 0
    ) {
        self.cachedInputTokens = cachedInputTokens
        self.ratedGood = ratedGood
        self.ratedBad = ratedBad
        self.lastTurnAt = lastTurnAt
        self.cacheHits = cacheHits
        self.savedTokens = savedTokens
        self.savedCost = savedCost
        self.key = key
        self.label = label
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.totalTokens = totalTokens
        self.cost = cost
        self.turns = turns
    }
}

extension UsageBucket {
    /// The buckets' sums under `key` (the totals of a history): no label, no last turn.
    public static func total(of buckets: [UsageBucket], key: String = "") -> UsageBucket {
        buckets.reduce(into: UsageBucket(key: key, label: nil, inputTokens: 0, outputTokens: 0, totalTokens: 0, cost: .zero, turns: 0)) {
            $0.inputTokens += $1.inputTokens
            $0.outputTokens += $1.outputTokens
            $0.totalTokens += $1.totalTokens
            $0.cost = $0.cost + $1.cost
            $0.turns += $1.turns
            $0.cacheHits += $1.cacheHits
            $0.savedTokens += $1.savedTokens
            $0.savedCost = $0.savedCost + $1.savedCost
            $0.ratedGood += $1.ratedGood
            $0.ratedBad += $1.ratedBad
            $0.cachedInputTokens += $1.cachedInputTokens
        }
    }
}

/// A user's limits on answers running at once (LiteLLM's `max_parallel_requests`) and on requests and tokens per
/// minute (OpenAI's RPM and TPM), and their use now: a turn is refused while one is reached, and fits again when a
/// running answer ends or as the window's oldest requests leave it.
public struct RateLimits: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case parallel, requests, tokens
    }

    public var maxParallel: Int?
    /// Turns running now (live holds).
    public var running: Int
    public var requestsPerMinute: Int?
    public var tokensPerMinute: Int?
    /// Requests made in the last 60 seconds (a refused one makes none).
    public var requests: Int
    /// Tokens those requests used (settled) or hold (running).
    public var tokens: Int
    /// When the window's oldest request leaves it; `nil` for an empty window.
    public var oldestLeavesAt: Date?

    public init(
        maxParallel: Int? = nil, running: Int = 0, requestsPerMinute: Int?, tokensPerMinute: Int?, requests: Int, tokens: Int,
        oldestLeavesAt: Date?
    ) {
        self.maxParallel = maxParallel
        self.running = running
        self.requestsPerMinute = requestsPerMinute
        self.tokensPerMinute = tokensPerMinute
        self.requests = requests
        self.tokens = tokens
        self.oldestLeavesAt = oldestLeavesAt
    }

    public func limit(_ kind: Kind) -> Int? {
        switch kind {
        case .parallel: maxParallel
        case .requests: requestsPerMinute
        case .tokens: tokensPerMinute
        }
    }

    public func used(_ kind: Kind) -> Int {
        switch kind {
        case .parallel: running
        case .requests: requests
        case .tokens: tokens
        }
    }

    public func remaining(_ kind: Kind) -> Int? { limit(kind).map { max(0, $0 - used(kind)) } }

    /// The limit a turn needing `tokens` (its input and one output token) goes over now, if any.
    public func exceeded(needing tokens: Int) -> Kind? {
        if let limit = maxParallel, running >= limit { return .parallel }
        if let limit = requestsPerMinute, requests >= limit { return .requests }
        if let limit = tokensPerMinute, self.tokens + tokens > limit { return .tokens }
        return nil
    }
}

/// Rate limits without their use: what a labelled key is held to besides its user's own limits (LiteLLM's key
/// `rpm_limit`, `tpm_limit` and `max_parallel_requests`), so that one application's burst cannot take the whole
/// account's allowance. `nil`: no limit of that kind.
public struct RateCaps: Sendable, Equatable {
    public var requestsPerMinute: Int?
    public var tokensPerMinute: Int?
    public var maxParallel: Int?

    public static let none = RateCaps()

    public init(requestsPerMinute: Int? = nil, tokensPerMinute: Int? = nil, maxParallel: Int? = nil) {
        self.requestsPerMinute = requestsPerMinute
        self.tokensPerMinute = tokensPerMinute
        self.maxParallel = maxParallel
    }

    /// No limit of any kind.
    public var isEmpty: Bool { requestsPerMinute == nil && tokensPerMinute == nil && maxParallel == nil }

    public func limit(_ kind: RateLimits.Kind) -> Int? {
        switch kind {
        case .parallel: maxParallel
        case .requests: requestsPerMinute
        case .tokens: tokensPerMinute
        }
    }

    /// The highest limit of each kind that may be set: a larger one is a typo, not a limit.
    public static let highest = 100_000_000
}
