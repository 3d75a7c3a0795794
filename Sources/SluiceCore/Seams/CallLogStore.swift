import Foundation

/// The calls the usage ledger has kept, one by one (`CallRecord`): what `BudgetStore.usageHistory` sums.
public protocol CallLogStore: Sendable {
    /// The calls `query` asks for, the newest first, at most `query.limit`.
    func calls(_ query: CallLogQuery) async throws -> [CallRecord]
}
