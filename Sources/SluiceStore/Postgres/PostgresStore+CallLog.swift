import Foundation
import PostgresNIO
import SluiceCore

/// The calls of the usage ledger one by one (`CallLogStore`) on PostgreSQL.
extension PostgresStore {
    public func calls(_ query: CallLogQuery) async throws -> [CallRecord] {
        let statement = CallLogSQL(
            query, placeholder: { "$\($0)" }, hasTag: { TagSpendingSQL.postgres.hasTag("u.tags", $0) })
        var sql = PostgresQuery(unsafeSQL: statement.sql)
        for value in statement.values {
            switch value {
            case .text(let text): sql.binds.append(text)
            case .integer(let number): sql.binds.append(number)
            }
        }
        return try await rows(sql).map(StoredValues.callRecord)
    }

    public func answerTimings(userID: String?, since: Date, limit: Int) async throws -> [AnswerTiming] {
        var sql = PostgresQuery(unsafeSQL: CallLogSQL.answerTimings(user: "$1::text", since: "$2", limit: "$3"))
        sql.binds.append(userID)
        sql.binds.append(StoredValues.milliseconds(since))
        sql.binds.append(limit)
        return try await rows(sql).map(StoredValues.answerTiming)
    }
}
