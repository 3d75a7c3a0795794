import Foundation

/// Teams (`Team`) and who belongs to which. The team's limits themselves are enforced by `BudgetStore.hold`, in
/// the same atomic step as the member's own limits.
public protocol TeamStore: Sendable {
    /// Makes a team; `StoreError.conflict` when one has that name.
    func createTeam(name: String, dailyDollarLimit: USDAmount?, monthlyDollarLimit: USDAmount?) async throws -> Team
    /// The team with this name, if any.
    func team(named name: String) async throws -> Team?
    /// Every team by name, with its members and what they spent under it today and this month (`now`'s UTC day and
    /// calendar month).
    func teams(now: Date) async throws -> [TeamSummary]
    /// Renames a team; `StoreError.conflict` when another has the name, `StoreError.notFound` when the team is gone.
    func renameTeam(id: String, to name: String) async throws
    /// Sets (or, with `nil`, removes) a team's daily limit; `StoreError.notFound` when the team is gone.
    func setTeamDailyDollarLimit(id: String, limit: USDAmount?) async throws
    /// Sets (or, with `nil`, removes) a team's monthly limit; `StoreError.notFound` when the team is gone.
    func setTeamMonthlyDollarLimit(id: String, limit: USDAmount?) async throws
    /// Limits the members to `models` (or, with `nil`, to their own models only); `StoreError.notFound` when the team
    /// is gone. A member's credential carries them (`Credential.teamModels`).
    func setTeamModels(id: String, models: [String]?) async throws
    /// Sets (or, with `nil`, removes) one of a team's limits per minute or at once (`Team.rateCaps`);
    /// `StoreError.notFound` when the team is gone.
    func setTeamRateLimit(_ kind: RateLimits.Kind, id: String, limit: Int?) async throws
    /// Deletes a team; its members stay, in no team, and the ledger keeps what was spent under it. `false`: no
    /// such team.
    func deleteTeam(id: String) async throws -> Bool
    /// Puts the user in the team (out of any other), or with `nil` in none; `StoreError.notFound` when the team is
    /// gone.
    func setTeam(userID: String, teamID: String?) async throws
    /// Each user in a team: user id → team name (the administrator's list of users shows it).
    func teamNamesByUser() async throws -> [String: String]
    /// The name of the user's team, or `nil` when they are in none (`GET /api/me` shows it).
    func teamName(userID: String) async throws -> String?
}

extension TeamStore {
    /// `createTeam` without a monthly limit.
    public func createTeam(name: String, dailyDollarLimit: USDAmount?) async throws -> Team {
        try await createTeam(name: name, dailyDollarLimit: dailyDollarLimit, monthlyDollarLimit: nil)
    }
}
