import Foundation
import SluiceCore

/// The calls of the usage ledger one by one (`CallLogStore`) on SQLite.
extension SQLiteStore {
    public func calls(_ query: CallLogQuery) async throws -> [CallRecord] {
        let statement = CallLogSQL(
            query, placeholder: { "?\($0)" },
            hasTag: { TagSpendingSQL.sqlite.hasTag("u.tags", $0) })
        let values: [SQLiteData] = statement.values.map {
            switch $0 {
            case .text(let text): .text(text)
            case .integer(let number): .integer(number)
            }
        }
        return try await connection.query(statement.sql, values).map(StoredValues.callRecord)
    }

    public func answerTimings(userID: String?, since: Date, limit: Int) async throws -> [AnswerTiming] {
        try await connection.query(
            CallLogSQL.answerTimings(user: "?1", since: "?2", limit: "?3"),
            [Self.optional(userID), .integer(Self.milliseconds(since)), .integer(limit)]
        ).map(StoredValues.answerTiming)
    }
}
