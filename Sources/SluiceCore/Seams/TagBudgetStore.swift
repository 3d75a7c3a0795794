import Foundation

/// Budgets per tag (`TagBudget`). They are enforced by `BudgetStore.hold`, in the same atomic step as the caller's
/// own limits, against a count of each budgeted tag's spending per day that the store keeps as calls are held and
/// settled.
public protocol TagBudgetStore: Sendable {
    /// Sets the tag's limits, making its budget or replacing them (at least one limit: `removeTagBudget` removes
    /// one). A new budget counts what the tag's calls have already spent this month.
    func setTagBudget(tag: String, dailyDollarLimit: USDAmount?, monthlyDollarLimit: USDAmount?, now: Date) async throws -> TagBudget
    /// Removes the tag's budget; its calls stay in the ledger. `false`: the tag had none.
    func removeTagBudget(tag: String) async throws -> Bool
    /// Every tag with a budget, by tag, with what its calls spent today and this month (`now`'s UTC day and month).
    func tagBudgets(now: Date) async throws -> [TagBudgetSummary]
}
