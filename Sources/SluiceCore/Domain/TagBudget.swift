import Foundation

/// A daily and a monthly dollar limit on every call that carries a tag (LiteLLM's tag budgets): a feature, an
/// environment or a customer's calls, whoever makes them, are refused before any tokens are spent once they would
/// pass it. A call's tags are its own (`metadata.tags`, `x-sluice-tags`) and its key's (`APIKey.tags`); a call with
/// several budgeted tags must fit under each.
public struct TagBudget: Sendable, Equatable {
    public var tag: String
    /// What calls with the tag may spend together in a UTC day; `nil`: no daily limit.
    public var dailyDollarLimit: USDAmount?
    /// What they may spend together in a UTC calendar month; `nil`: no monthly limit.
    public var monthlyDollarLimit: USDAmount?
    public var createdAt: Date

    public init(tag: String, dailyDollarLimit: USDAmount?, monthlyDollarLimit: USDAmount?, createdAt: Date) {
        self.tag = tag
        self.dailyDollarLimit = dailyDollarLimit
        self.monthlyDollarLimit = monthlyDollarLimit
        self.createdAt = createdAt
    }
}

/// A tag's budget with what its calls spent today and this month (settled calls and the most running ones may
/// still cost), as the administrator's list and a refusal show it.
public struct TagBudgetSummary: Sendable, Equatable {
    public var budget: TagBudget
    public var spentToday: USDAmount
    public var spentThisMonth: USDAmount
    /// The moment the figures were read: when the day and the month reset follows from it.
    public var now: Date

    public init(budget: TagBudget, spentToday: USDAmount, spentThisMonth: USDAmount, now: Date) {
        self.budget = budget
        self.spentToday = spentToday
        self.spentThisMonth = spentThisMonth
        self.now = now
    }

    /// The day under the daily limit, resetting at the next UTC midnight; `nil` without one.
    public var dailyDollars: DollarBudget? {
        budget.dailyDollarLimit.map {
            // The next UTC midnight, as the ledger's days run.
            DollarBudget(limit: $0, spent: spentToday, resetAt: Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400 + 86_400))
        }
    }

    /// The month under the monthly limit, resetting on the next month's first day; `nil` without one.
    public var monthlyDollars: DollarBudget? {
        budget.monthlyDollarLimit.map { DollarBudget(limit: $0, spent: spentThisMonth, resetAt: UTCMonth.next(after: now)) }
    }
}
