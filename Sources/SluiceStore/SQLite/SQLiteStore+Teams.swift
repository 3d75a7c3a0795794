import Foundation
import GRDB
import SluiceCore

/// Teams (`TeamStore`, schema step 62) on SQLite.
extension SQLiteStore {
    public func createTeam(name: String, dailyDollarLimit: USDAmount?, monthlyDollarLimit: USDAmount?) async throws -> Team {
        let team = Team(
            id: Identifier.make(), name: name, dailyDollarLimit: dailyDollarLimit, monthlyDollarLimit: monthlyDollarLimit,
            createdAt: StoredValues.now())
        do {
            _ = try await connection.query(
                "INSERT INTO teams (id, name, daily_usd_limit_picousd, monthly_usd_limit_picousd, created_at) VALUES (?, ?, ?, ?, ?)",
                [.text(team.id), .text(name), Self.optional(dailyDollarLimit.map { Int($0.picodollars) }),
                 Self.optional(monthlyDollarLimit.map { Int($0.picodollars) }), .integer(Self.milliseconds(team.createdAt))])
        } catch let error as DatabaseError where error.isConstraintViolation {
            throw StoreError.conflict("a team named \(name) already exists")
        }
        return team
    }

    public func team(named name: String) async throws -> Team? {
        try await connection.query("SELECT * FROM teams WHERE name = ?", [.text(name)]).first.map(StoredValues.team)
    }

    public func teams(now: Date) async throws -> [TeamSummary] {
        let spent = TeamSpendingSQL.spent(team: "t.id", now: "?1", dayStart: "?2")
        let monthSpent = TeamSpendingSQL.monthSpent(team: "t.id", now: "?1", monthStart: "?3")
        let teams = try await connection.query(
            "SELECT t.*, \(spent) AS spent, \(monthSpent) AS month_spent FROM teams t ORDER BY t.name",
            [.integer(Self.milliseconds(now)), .integer(Self.milliseconds(StoredValues.dayStart(now))),
             .integer(Self.milliseconds(UTCMonth.start(of: now)))])
        let members = try await connection.query(
            "SELECT id, team_id FROM users WHERE team_id IS NOT NULL AND deleted_at IS NULL ORDER BY name")
        return StoredValues.teamSummaries(teams, members: members)
    }

    public func renameTeam(id: String, to name: String) async throws {
        let renamed: [SQLiteRow]
        do {
            renamed = try await connection.query("UPDATE teams SET name = ? WHERE id = ? RETURNING id", [.text(name), .text(id)])
        } catch let error as DatabaseError where error.isConstraintViolation {
            throw StoreError.conflict("a team named \(name) already exists")
        }
        if renamed.isEmpty { throw StoreError.notFound }
    }

    public func setTeamDailyDollarLimit(id: String, limit: USDAmount?) async throws {
        try await setTeamLimit("daily_usd_limit_picousd", id: id, limit: limit)
    }

    public func setTeamMonthlyDollarLimit(id: String, limit: USDAmount?) async throws {
        try await setTeamLimit("monthly_usd_limit_picousd", id: id, limit: limit)
    }

    public func setTeamModels(id: String, models: [String]?) async throws {
        let changed = try await connection.query(
            "UPDATE teams SET allowed_models = ? WHERE id = ? RETURNING id", [Self.optional(models.map(StoredValues.encodeModels)), .text(id)])
        if changed.isEmpty { throw StoreError.notFound }
    }

    public func setTeamRateLimit(_ kind: RateLimits.Kind, id: String, limit: Int?) async throws {
        let changed = try await connection.query(
            "UPDATE teams SET \(StoredValues.rateLimitColumn(kind)) = ? WHERE id = ? RETURNING id", [Self.optional(limit), .text(id)])
        if changed.isEmpty { throw StoreError.notFound }
    }

    /// Sets one of the team's limit columns (a name of ours, never a caller's), in picodollars.
    private func setTeamLimit(_ column: String, id: String, limit: USDAmount?) async throws {
        let changed = try await connection.query(
            "UPDATE teams SET \(column) = ? WHERE id = ? RETURNING id", [Self.optional(limit.map { Int($0.picodollars) }), .text(id)])
        if changed.isEmpty { throw StoreError.notFound }
    }

    public func deleteTeam(id: String) async throws -> Bool {
        !(try await connection.transactionReturning { db in
            try SQLiteConnection.run("UPDATE users SET team_id = NULL WHERE team_id = ?", [.text(id)], in: db)
            return try SQLiteConnection.run("DELETE FROM teams WHERE id = ? RETURNING id", [.text(id)], in: db)
        }.isEmpty)
    }

    public func setTeam(userID: String, teamID: String?) async throws {
        // One statement: a team deleted meanwhile is not joined.
        let changed = try await connection.query(
            "UPDATE users SET team_id = ?1 WHERE id = ?2 AND (?1 IS NULL OR EXISTS (SELECT 1 FROM teams WHERE id = ?1)) RETURNING id",
            [Self.optional(teamID), .text(userID)])
        if changed.isEmpty { throw StoreError.notFound }
    }

    public func teamName(userID: String) async throws -> String? {
        try await connection.query(
            "SELECT t.name FROM users u JOIN teams t ON t.id = u.team_id WHERE u.id = ?", [.text(userID)]
        ).first?.string("name")
    }

    public func teamNamesByUser() async throws -> [String: String] {
        let rows = try await connection.query("SELECT u.id, t.name FROM users u JOIN teams t ON t.id = u.team_id")
        return Dictionary(rows.map { ($0.text("id"), $0.text("name")) }, uniquingKeysWith: { first, _ in first })
    }
}
