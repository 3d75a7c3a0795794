import Foundation

/// A group of users who share spending limits (LiteLLM's teams, Open WebUI's groups): every turn of a member counts
/// against the team's day and month as well as their own limits, and is refused before any tokens are spent once a
/// team limit would be passed. A user belongs to at most one team, so there is never a question of which team pays.
public struct Team: Sendable, Equatable {
    public let id: String
    public var name: String
    /// What the members may spend together in a UTC day; `nil`: no limit (the team only groups its members' usage).
    public var dailyDollarLimit: USDAmount?
    /// What the members may spend together in a UTC calendar month (LiteLLM's team `max_budget` with a monthly
    /// `budget_duration`); `nil`: no limit.
    public var monthlyDollarLimit: USDAmount?
    /// The models the members may use (LiteLLM's team `models`, Open WebUI's model access per group), within each
    /// member's own; `nil`: every model the member may use.
    public var allowedModels: [String]?
    /// Requests and tokens a minute and answers at once for all the members together (LiteLLM's team `rpm_limit`,
    /// `tpm_limit`, `max_parallel_requests`), within each member's own; `.none`: no such limit.
    public var rateCaps: RateCaps
    public let createdAt: Date

    public init(
        id: String, name: String, dailyDollarLimit: USDAmount?, monthlyDollarLimit: USDAmount? = nil,
        allowedModels: [String]? = nil, rateCaps: RateCaps = .none, createdAt: Date
    ) {
        self.id = id
        self.name = name
        self.dailyDollarLimit = dailyDollarLimit
        self.monthlyDollarLimit = monthlyDollarLimit
        self.allowedModels = allowedModels
        self.rateCaps = rateCaps
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

/// A team as the administrator's list shows it: the team, its members' user ids, and what they spent under it today
/// and this month (settled turns and the most that running ones may still cost).
public struct TeamSummary: Sendable, Equatable {
    public var team: Team
    public var memberIDs: [String]
    public var spentToday: USDAmount
    public var spentThisMonth: USDAmount

    public init(team: Team, memberIDs: [String], spentToday: USDAmount, spentThisMonth: USDAmount) {
        self.team = team
        self.memberIDs = memberIDs
        self.spentToday = spentToday
        self.spentThisMonth = spentThisMonth
    }
}

/// The team of the user whose budget this is: its day and month under its limits, and its rates (`BudgetState.team`).
public struct TeamBudget: Sendable, Equatable {
    public var name: String
    /// `nil`: the team has no daily limit.
    public var dailyDollars: DollarBudget?
    /// `nil`: the team has no monthly limit.
    public var monthlyDollars: DollarBudget?
    /// The team's limits per minute and at once and what all its members use of them now; `nil`: none.
    public var rateLimits: RateLimits?

    public init(name: String, dailyDollars: DollarBudget?, monthlyDollars: DollarBudget? = nil, rateLimits: RateLimits? = nil) {
        self.name = name
        self.dailyDollars = dailyDollars
        self.monthlyDollars = monthlyDollars
        self.rateLimits = rateLimits
    }
}

/// UTC calendar months, as a team's monthly limit counts them.
public enum UTCMonth {
    private static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    /// Midnight UTC on the first day of `date`'s month.
    public static func start(of date: Date) -> Date {
        calendar.dateInterval(of: .month, for: date)!.start
    }

    /// Midnight UTC on the first day of the month after `date`'s.
    public static func next(after date: Date) -> Date {
        calendar.dateInterval(of: .month, for: date)!.end
    }
}
