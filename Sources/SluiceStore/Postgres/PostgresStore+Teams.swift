import Foundation
import PostgresNIO
import SluiceCore

/// Teams (`TeamStore`, schema step 62) on PostgreSQL. A change of a team's limit locks its row, as every member's
/// hold does (`sluice_hold`), so a hold sees the limit from before the change or after it, never a mix.
extension PostgresStore {
    public func createTeam(name: String, dailyDollarLimit: USDAmount?, monthlyDollarLimit: USDAmount?) async throws -> Team {
        let team = Team(
            id: Identifier.make(), name: name, dailyDollarLimit: dailyDollarLimit, monthlyDollarLimit: monthlyDollarLimit,
            createdAt: StoredValues.now())
        let daily = dailyDollarLimit.map { Int($0.picodollars) }
        let monthly = monthlyDollarLimit.map { Int($0.picodollars) }
        do {
            _ = try await rows(
                """
                INSERT INTO teams (id, name, daily_usd_limit_picousd, monthly_usd_limit_picousd, created_at)
                VALUES (\(team.id), \(name), \(daily), \(monthly), \(StoredValues.milliseconds(team.createdAt)))
                """)
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            throw StoreError.conflict("a team named \(name) already exists")
        }
        return team
    }

    public func team(named name: String) async throws -> Team? {
        try await rows("SELECT * FROM teams WHERE name = \(name)").first.map(StoredValues.team)
    }

    public func teams(now: Date) async throws -> [TeamSummary] {
        // Both moments are integers of ours, written into the SQL text.
        let nowMs = StoredValues.milliseconds(now)
        let spent = TeamSpendingSQL.spent(
            team: "t.id", now: "\(nowMs)", dayStart: "\(StoredValues.milliseconds(StoredValues.dayStart(now)))")
        let monthSpent = TeamSpendingSQL.monthSpent(
            team: "t.id", now: "\(nowMs)", monthStart: "\(StoredValues.milliseconds(UTCMonth.start(of: now)))")
        let teams = try await rows(
            "SELECT t.*, \(unescaped: spent) AS spent, \(unescaped: monthSpent) AS month_spent FROM teams t ORDER BY t.name")
        let members = try await rows("SELECT id, team_id FROM users WHERE team_id IS NOT NULL AND deleted_at IS NULL ORDER BY name")
        return StoredValues.teamSummaries(teams, members: members)
    }

    public func renameTeam(id: String, to name: String) async throws {
        let renamed: [PostgresRandomAccessRow]
        do {
            renamed = try await rows("UPDATE teams SET name = \(name) WHERE id = \(id) RETURNING id")
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            throw StoreError.conflict("a team named \(name) already exists")
        }
        if renamed.isEmpty { throw StoreError.notFound }
    }

    public func setTeamDailyDollarLimit(id: String, limit: USDAmount?) async throws {
        let picodollars = limit.map { Int($0.picodollars) }
        let changed = try await rows("UPDATE teams SET daily_usd_limit_picousd = \(picodollars) WHERE id = \(id) RETURNING id")
        if changed.isEmpty { throw StoreError.notFound }
    }

    public func setTeamMonthlyDollarLimit(id: String, limit: USDAmount?) async throws {
        let picodollars = limit.map { Int($0.picodollars) }
        let changed = try await rows("UPDATE teams SET monthly_usd_limit_picousd = \(picodollars) WHERE id = \(id) RETURNING id")
        if changed.isEmpty { throw StoreError.notFound }
    }

    public func setTeamRateLimit(_ kind: RateLimits.Kind, id: String, limit: Int?) async throws {
        let changed = try await rows(
            "UPDATE teams SET \(unescaped: StoredValues.rateLimitColumn(kind)) = \(limit) WHERE id = \(id) RETURNING id")
        if changed.isEmpty { throw StoreError.notFound }
    }

    public func setTeamModels(id: String, models: [String]?) async throws {
        let encoded = models.map(StoredValues.encodeModels)
        let changed = try await rows("UPDATE teams SET allowed_models = \(encoded) WHERE id = \(id) RETURNING id")
        if changed.isEmpty { throw StoreError.notFound }
    }

    public func deleteTeam(id: String) async throws -> Bool {
        !(try await rows(
            """
            WITH left_team AS (UPDATE users SET team_id = NULL WHERE team_id = \(id))
            DELETE FROM teams WHERE id = \(id) RETURNING id
            """
        ).isEmpty)
    }

    public func setTeam(userID: String, teamID: String?) async throws {
        // `FOR SHARE`: a team being deleted meanwhile is either joined before (and then left by the delete) or not found.
        let changed = try await rows(
            """
            UPDATE users SET team_id = \(teamID) WHERE id = \(userID)
                AND (\(teamID)::text IS NULL OR EXISTS (SELECT 1 FROM teams WHERE id = \(teamID) FOR SHARE))
            RETURNING id
            """)
        if changed.isEmpty { throw StoreError.notFound }
    }

    public func teamName(userID: String) async throws -> String? {
        try await rows("SELECT t.name FROM users u JOIN teams t ON t.id = u.team_id WHERE u.id = \(userID)").first?.string("name")
    }

    public func teamNamesByUser() async throws -> [String: String] {
        let rows = try await rows("SELECT u.id, t.name FROM users u JOIN teams t ON t.id = u.team_id")
        return Dictionary(rows.map { ($0.text("id"), $0.text("name")) }, uniquingKeysWith: { first, _ in first })
    }
}
