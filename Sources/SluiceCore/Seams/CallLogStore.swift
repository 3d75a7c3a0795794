import Foundation

/// The calls the usage ledger has kept, one by one (`CallRecord`): what `BudgetStore.usageHistory` sums.
public protocol CallLogStore: Sendable {
    /// The calls `query` asks for, the newest first, at most `query.limit`.
    func calls(_ query: CallLogQuery) async throws -> [CallRecord]
    /// The timings of the answers made since `since` (one user's, or with `userID` `nil` everyone's) that came from
    /// the model in full — the newest `limit` of them: what latency per model is measured over.
    func answerTimings(userID: String?, since: Date, limit: Int) async throws -> [AnswerTiming]
}

/// How fast one complete answer came: its model, milliseconds to its first token and to its end, its output tokens.
public struct AnswerTiming: Sendable, Equatable {
    public let model: String
    public let firstTokenMilliseconds: Int
    public let durationMilliseconds: Int
    public let outputTokens: Int

    public init(model: String, firstTokenMilliseconds: Int, durationMilliseconds: Int, outputTokens: Int) {
        self.model = model
        self.firstTokenMilliseconds = firstTokenMilliseconds
        self.durationMilliseconds = durationMilliseconds
        self.outputTokens = outputTokens
    }
}
