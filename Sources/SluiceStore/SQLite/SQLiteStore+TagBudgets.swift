import Foundation
import GRDB
import SluiceCore

/// Budgets per tag (`TagBudgetStore`, schema step 67) on SQLite.
extension SQLiteStore {
    public func setTagBudget(
        tag: String, dailyDollarLimit: USDAmount?, monthlyDollarLimit: USDAmount?, now: Date
    ) async throws -> TagBudget {
        let binds: [SQLiteData] = [
            .text(tag), Self.optional(dailyDollarLimit.map { Int($0.picodollars) }),
            Self.optional(monthlyDollarLimit.map { Int($0.picodollars) }), .integer(Self.milliseconds(now)),
        ]
        let backfill = TagSpendingSQL.sqlite.backfill(tag: "?1", monthStart: "?2")
        let monthStart: SQLiteData = .integer(Self.milliseconds(UTCMonth.start(of: now)))
        // One transaction on the one writer: no hold runs between the budget's row and its month's count.
        let rows = try await connection.transactionReturning { db in
            let existed = try !SQLiteConnection.run("SELECT 1 FROM tag_budgets WHERE tag = ?", [.text(tag)], in: db).isEmpty
            let rows = try SQLiteConnection.run(
                """
                INSERT INTO tag_budgets (tag, daily_usd_limit_picousd, monthly_usd_limit_picousd, created_at) VALUES (?1, ?2, ?3, ?4)
                ON CONFLICT (tag) DO UPDATE SET daily_usd_limit_picousd = excluded.daily_usd_limit_picousd,
                    monthly_usd_limit_picousd = excluded.monthly_usd_limit_picousd
                RETURNING *
                """, binds, in: db)
            if !existed {
                _ = try SQLiteConnection.run("DELETE FROM tag_daily_spending WHERE tag = ?", [.text(tag)], in: db)
                _ = try SQLiteConnection.run(backfill, [.text(tag), monthStart], in: db)
            }
            return rows
        }
        guard let row = rows.first else { throw StoreError.notFound }
        return StoredValues.tagBudget(row)
    }

    public func removeTagBudget(tag: String) async throws -> Bool {
        let rows = try await connection.transactionReturning { db in
            _ = try SQLiteConnection.run("DELETE FROM tag_daily_spending WHERE tag = ?", [.text(tag)], in: db)
            return try SQLiteConnection.run("DELETE FROM tag_budgets WHERE tag = ? RETURNING tag", [.text(tag)], in: db)
        }
        return !rows.isEmpty
    }

    public func tagBudgets(now: Date) async throws -> [TagBudgetSummary] {
        let spending = TagSpendingSQL.sqlite
        let spent = spending.spent(tag: "tb.tag", now: "?1", dayStart: "?2")
        let monthSpent = spending.monthSpent(tag: "tb.tag", now: "?1", monthStart: "?3")
        return try await connection.query(
            "SELECT tb.*, \(spent) AS spent, \(monthSpent) AS month_spent FROM tag_budgets tb ORDER BY tb.tag",
            [.integer(Self.milliseconds(now)), .integer(Self.milliseconds(StoredValues.dayStart(now))),
             .integer(Self.milliseconds(UTCMonth.start(of: now)))]
        ).map { StoredValues.tagBudgetSummary($0, now: now) }
    }
}
