import Foundation
import PostgresNIO
import SluiceCore

/// Budgets per tag (`TagBudgetStore`, schema step 67) on PostgreSQL. Setting a budget locks its row, as every hold of
/// a call with the tag does (`sluice_hold`), so a hold sees the limits from before the change or after it.
extension PostgresStore {
    public func setTagBudget(
        tag: String, dailyDollarLimit: USDAmount?, monthlyDollarLimit: USDAmount?, now: Date
    ) async throws -> TagBudget {
        let daily = dailyDollarLimit.map { Int($0.picodollars) }
        let monthly = monthlyDollarLimit.map { Int($0.picodollars) }
        let nowMs = StoredValues.milliseconds(now)
        var backfill = PostgresQuery(unsafeSQL: TagSpendingSQL.postgres.backfill(tag: "$1::text", monthStart: "$2"))
        backfill.binds.append(tag)
        backfill.binds.append(StoredValues.milliseconds(UTCMonth.start(of: now)))
        let logger = logger
        let row = try await transaction { connection in
            // `xmax = 0`: the row was inserted, not updated — a new budget, whose month is counted from the ledger.
            let rows = try await connection.query(
                """
                INSERT INTO tag_budgets (tag, daily_usd_limit_picousd, monthly_usd_limit_picousd, created_at)
                VALUES (\(tag), \(daily), \(monthly), \(nowMs))
                ON CONFLICT (tag) DO UPDATE SET daily_usd_limit_picousd = excluded.daily_usd_limit_picousd,
                    monthly_usd_limit_picousd = excluded.monthly_usd_limit_picousd
                RETURNING *, (xmax = 0)::int AS made
                """, logger: logger
            ).collect().map { $0.makeRandomAccess() }
            guard let row = rows.first else { throw StoreError.notFound }
            if row.int("made") == 1 {
                try await connection.query("DELETE FROM tag_daily_spending WHERE tag = \(tag)", logger: logger)
                try await connection.query(backfill, logger: logger)
            }
            return row
        }
        return StoredValues.tagBudget(row)
    }

    public func removeTagBudget(tag: String) async throws -> Bool {
        !(try await rows(
            """
            WITH forgotten AS (DELETE FROM tag_daily_spending WHERE tag = \(tag))
            DELETE FROM tag_budgets WHERE tag = \(tag) RETURNING tag
            """
        ).isEmpty)
    }

    public func tagBudgets(now: Date) async throws -> [TagBudgetSummary] {
        // The moments are integers of ours, written into the SQL text.
        let nowMs = StoredValues.milliseconds(now)
        let spending = TagSpendingSQL.postgres
        let spent = spending.spent(tag: "tb.tag", now: "\(nowMs)", dayStart: "\(StoredValues.milliseconds(StoredValues.dayStart(now)))")
        let monthSpent = spending.monthSpent(
            tag: "tb.tag", now: "\(nowMs)", monthStart: "\(StoredValues.milliseconds(UTCMonth.start(of: now)))")
        return try await rows(
            "SELECT tb.*, \(unescaped: spent) AS spent, \(unescaped: monthSpent) AS month_spent FROM tag_budgets tb ORDER BY tb.tag"
        ).map { StoredValues.tagBudgetSummary($0, now: now) }
    }
}
