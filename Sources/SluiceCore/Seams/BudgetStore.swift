import Foundation

/// Token budgets and the usage ledger. Every method is one atomic step in the store, so that concurrent
/// turns can never together spend more than a limit.
public protocol BudgetStore: CallLogStore, TagBudgetStore {
    /// Holds `inputTokens + min(wantedOutput, what remains)` of the user's budget for one turn, or returns `nil`
    /// when not even the input and one output token fit. Rolls the period over first when it has ended.
    func hold(_ request: HoldRequest, now: Date) async throws -> BudgetHold?
    /// Replaces a hold by what the turn really used (a partial or cancelled answer is charged for what it
    /// generated); a hold for a turn that generated nothing is released with `usage` zero. With `answer`, how the
    /// answer ended is stored in the same commit (`ConversationStore.finish`). With `saved`, the turn was answered from
    /// the response cache: it is charged nothing and its row counts what the cache saved (`UsageBucket.cacheHits`).
    /// `cachedInputTokens` is the part of `inputTokens` the provider read from its prompt cache.
    func settle(
        holdID: String, inputTokens: Int, outputTokens: Int, cachedInputTokens: Int, cost: USDAmount, now: Date,
        finishing answer: AnswerFinish?, saved: CacheSavings?
    ) async throws
    /// The user's budget now (held tokens count as used).
    func budget(userID: String, now: Date) async throws -> BudgetState
    /// Every user's budget as `budget` gives it, by user id, in a few statements whatever the number of users (the
    /// administrator's list of users).
    func budgets(now: Date) async throws -> [String: BudgetState]
    /// Changes a user's plan and its limit (`nil`: the plan's default).
    func setPlan(userID: String, plan: Plan, tokenLimit: Int?) async throws
    /// Sets (or, with `nil`, removes) a user's daily spending limit.
    func setDailyDollarLimit(userID: String, limit: USDAmount?) async throws
    /// Sets (or, with `nil`, removes) what each of the user's end users may spend a day.
    func setEndUserDailyDollarLimit(userID: String, limit: USDAmount?) async throws
    /// Sets (or, with `nil`, removes) the user's limit of answers at once, or of requests or tokens per minute.
    func setRateLimit(_ kind: RateLimits.Kind, userID: String, limit: Int?) async throws
    /// One end user's spending today under the user's limit per end user; `nil` when the user has none.
    func endUserBudget(userID: String, endUser: String, now: Date) async throws -> DollarBudget?
    /// What the user's key has spent today (UTC): settled turns and live holds.
    func apiKeySpentToday(userID: String, apiKeyID: String, now: Date) async throws -> USDAmount
    /// The key's rate limits `caps` and its use now (its turns in the last minute, its answers running); `nil` when
    /// `caps` is empty.
    func apiKeyRateLimits(userID: String, apiKeyID: String, caps: RateCaps, now: Date) async throws -> RateLimits?
    /// Starts a fresh period for the user now.
    func resetBudget(userID: String, now: Date) async throws
    /// Tokens settled for one conversation, ever.
    func conversationTokens(conversationID: String) async throws -> Int
    /// Settled usage since `since`, bucketed; `userID` `nil` means every user (for operators' reports).
    func usageHistory(userID: String?, since: Date, groupedBy grouping: UsageGrouping) async throws -> [UsageBucket]
}

extension BudgetStore {
    /// `settle` of a call whose prompt the provider did not read from its prompt cache.
    public func settle(
        holdID: String, inputTokens: Int, outputTokens: Int, cost: USDAmount, now: Date, finishing answer: AnswerFinish?,
        saved: CacheSavings?
    ) async throws {
        try await settle(
            holdID: holdID, inputTokens: inputTokens, outputTokens: outputTokens, cachedInputTokens: 0, cost: cost, now: now,
            finishing: answer, saved: saved)
    }

    /// `settle` of a turn that was not answered from the response cache.
    public func settle(
        holdID: String, inputTokens: Int, outputTokens: Int, cost: USDAmount, now: Date, finishing answer: AnswerFinish?
    ) async throws {
        try await settle(
            holdID: holdID, inputTokens: inputTokens, outputTokens: outputTokens, cost: cost, now: now, finishing: answer,
            saved: nil)
    }

    /// `settle` without storing an answer's end.
    public func settle(holdID: String, inputTokens: Int, outputTokens: Int, cost: USDAmount, now: Date) async throws {
        try await settle(
            holdID: holdID, inputTokens: inputTokens, outputTokens: outputTokens, cost: cost, now: now, finishing: nil)
    }
}

/// What an answer from the response cache saved: the tokens and the cost of the call it repeated, priced as the
/// model is priced now (LiteLLM's "saved cost").
public struct CacheSavings: Sendable, Equatable, Codable {
    public let tokens: Int
    public let cost: USDAmount

    public init(tokens: Int, cost: USDAmount) {
        self.tokens = tokens
        self.cost = cost
    }
}

/// How an answer ended, to be stored together with its settled hold; with `thread`, the conversation's new
/// thread key too (`ConversationStore.setThreadKey`).
public struct AnswerFinish: Sendable {
    public let messageID: String
    public let outcome: AssistantOutcome
    public let thread: (conversationID: String, key: String)?

    public init(messageID: String, outcome: AssistantOutcome, thread: (conversationID: String, key: String)? = nil) {
        self.messageID = messageID
        self.outcome = outcome
        self.thread = thread
    }
}
