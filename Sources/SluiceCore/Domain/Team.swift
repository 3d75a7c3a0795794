import Foundation

/// A group of users who share a daily spending limit (LiteLLM's teams, Open WebUI's groups): every turn of a member
/// counts against the team's day as well as their own, and is refused before any tokens are spent once the team's
/// limit would be passed. A user belongs to at most one team, so there is never a question of which team pays.
public struct Team: Sendable, Equatable {
    public let id: String
    public var name: String
    /// What the members may spend together in a UTC day; `nil`: no limit (the team only groups its members' usage).
    public var dailyDollarLimit: USDAmount?
    public let createdAt: Date

    public init(id: String, name: String, dailyDollarLimit: USDAmount?, createdAt: Date) {
        self.id = id
        self.name = name
        self.dailyDollarLimit = dailyDollarLimit
        self.createdAt = createdAt
    }

    /// What `name` asks of a team's name, for an error message.
    public static let nameRule = "1 to 64 characters, not only spaces, without '/' or control characters"

    /// `raw` trimmed, when it may name a team (it goes in paths, `/api/admin/teams/{name}`, and on screens); else `nil`.
    public static func name(_ raw: String) -> String? {
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...64).contains(name.count), !name.contains("/"),
              !name.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) })
        else { return nil }
        return name
    }
}

/// A team as the administrator's list shows it: the team, its members' user ids, and what they spent today (settled
/// turns and the most that running ones may still cost).
public struct TeamSummary: Sendable, Equatable {
    public var team: Team
    public var memberIDs: [String]
    public var spentToday: USDAmount

    public init(team: Team, memberIDs: [String], spentToday: USDAmount) {
        self.team = team
        self.memberIDs = memberIDs
        self.spentToday = spentToday
    }
}

/// The team of the user whose budget this is, and its day when it has a limit (`BudgetState.team`).
public struct TeamBudget: Sendable, Equatable {
    public var name: String
    public var dailyDollars: DollarBudget?

    public init(name: String, dailyDollars: DollarBudget?) {
        self.name = name
        self.dailyDollars = dailyDollars
    }
}
