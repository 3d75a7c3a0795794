import Foundation

/// A budget on the wire: `{"plan","used","limit","remaining","percent","level","reset_at","daily_usd",
/// "global_daily_usd","end_user_daily_usd_limit","requests_per_minute","tokens_per_minute","requests_last_minute",
/// "tokens_last_minute","max_parallel_requests","running_requests","team"}`.
public struct WireBudget: Codable, Sendable, Equatable {
    public var plan: String
    public var used: Int
    public var limit: Int?
    public var remaining: Int?
    public var percent: Int?
    public var level: String
    public var resetAt: String
    /// The user's daily spending limit: `{"limit","spent","remaining","percent","level","reset_at"}` or `null`.
    public var dailyUSD: WireDollars?
    /// The service's daily spending limit, same shape, or `null`.
    public var globalDailyUSD: WireDollars?
    /// What each end user may spend a day (a decimal string), or `null`.
    public var endUserDailyUSDLimit: String?
    /// The user's limits per minute, or `null`.
    public var requestsPerMinute: Int?
    public var tokensPerMinute: Int?
    /// What the last 60 seconds used of them; `null` when the user has neither limit.
    public var requestsLastMinute: Int?
    public var tokensLastMinute: Int?
    /// The user's limit of answers at once, or `null`; the answers running now, `null` without that limit.
    public var maxParallelRequests: Int?
    public var runningRequests: Int?
    /// The user's team: `{"name","daily_usd","monthly_usd","requests_per_minute",…}` (`WireTeamBudget`), or `null`.
    public var team: WireTeamBudget?

    public init(_ budget: BudgetState) {
        plan = budget.plan.rawValue
        used = budget.used
        limit = budget.limit
        remaining = budget.remaining
        percent = budget.percent
        level = budget.level.rawValue
        resetAt = budget.resetAt.formatted(.iso8601)
        dailyUSD = budget.dailyDollars.map(WireDollars.init)
        globalDailyUSD = budget.globalDailyDollars.map(WireDollars.init)
        endUserDailyUSDLimit = budget.endUserDailyLimit?.decimalString
        (requestsPerMinute, tokensPerMinute, requestsLastMinute, tokensLastMinute, maxParallelRequests, runningRequests) =
            Self.rateFields(budget.rateLimits)
        team = budget.team.map(WireTeamBudget.init)
    }

    enum CodingKeys: String, CodingKey {
        case plan, used, limit, remaining, percent, level
        case resetAt = "reset_at"
        case dailyUSD = "daily_usd"
        case globalDailyUSD = "global_daily_usd"
        case endUserDailyUSDLimit = "end_user_daily_usd_limit"
        case requestsPerMinute = "requests_per_minute"
        case tokensPerMinute = "tokens_per_minute"
        case requestsLastMinute = "requests_last_minute"
        case tokensLastMinute = "tokens_last_minute"
        case maxParallelRequests = "max_parallel_requests"
        case runningRequests = "running_requests"
        case team
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(plan, forKey: .plan)
        try container.encode(used, forKey: .used)
        try container.encode(limit, forKey: .limit)
        try container.encode(remaining, forKey: .remaining)
        try container.encode(percent, forKey: .percent)
        try container.encode(level, forKey: .level)
        try container.encode(resetAt, forKey: .resetAt)
        try container.encode(dailyUSD, forKey: .dailyUSD)
        try container.encode(globalDailyUSD, forKey: .globalDailyUSD)
        try container.encode(endUserDailyUSDLimit, forKey: .endUserDailyUSDLimit)
        try container.encode(requestsPerMinute, forKey: .requestsPerMinute)
        try container.encode(tokensPerMinute, forKey: .tokensPerMinute)
        try container.encode(requestsLastMinute, forKey: .requestsLastMinute)
        try container.encode(tokensLastMinute, forKey: .tokensLastMinute)
        try container.encode(maxParallelRequests, forKey: .maxParallelRequests)
        try container.encode(runningRequests, forKey: .runningRequests)
        try container.encode(team, forKey: .team)
    }

    public var json: String { JSONText.encode(self) }

    /// A user's or a team's rate limits as their six fields: per minute, used in the last minute (when there is a
    /// limit per minute), at once, running (when there is that limit).
    static func rateFields(_ rates: RateLimits?) -> (Int?, Int?, Int?, Int?, Int?, Int?) {
        let perMinute = rates?.requestsPerMinute != nil || rates?.tokensPerMinute != nil
        return (
            rates?.requestsPerMinute, rates?.tokensPerMinute, perMinute ? rates?.requests : nil, perMinute ? rates?.tokens : nil,
            rates?.maxParallel, rates?.maxParallel == nil ? nil : rates?.running
        )
    }
}

/// A user's team on the wire: its name, its day and month under its limits (`null`: no such limit; a month's
/// `reset_at` is the next month's first day), and its limits per minute and at once with what all its members use of
/// them, named and `null` as the user's own are in `WireBudget`.
public struct WireTeamBudget: Codable, Sendable, Equatable {
    public var name: String
    public var dailyUSD: WireDollars?
    public var monthlyUSD: WireDollars?
    public var requestsPerMinute: Int?
    public var tokensPerMinute: Int?
    public var requestsLastMinute: Int?
    public var tokensLastMinute: Int?
    public var maxParallelRequests: Int?
    public var runningRequests: Int?

    public init(_ team: TeamBudget) {
        name = team.name
        dailyUSD = team.dailyDollars.map(WireDollars.init)
        monthlyUSD = team.monthlyDollars.map(WireDollars.init)
        (requestsPerMinute, tokensPerMinute, requestsLastMinute, tokensLastMinute, maxParallelRequests, runningRequests) =
            WireBudget.rateFields(team.rateLimits)
    }

    enum CodingKeys: String, CodingKey {
        case name
        case dailyUSD = "daily_usd"
        case monthlyUSD = "monthly_usd"
        case requestsPerMinute = "requests_per_minute"
        case tokensPerMinute = "tokens_per_minute"
        case requestsLastMinute = "requests_last_minute"
        case tokensLastMinute = "tokens_last_minute"
        case maxParallelRequests = "max_parallel_requests"
        case runningRequests = "running_requests"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(dailyUSD, forKey: .dailyUSD)
        try container.encode(monthlyUSD, forKey: .monthlyUSD)
        try container.encode(requestsPerMinute, forKey: .requestsPerMinute)
        try container.encode(tokensPerMinute, forKey: .tokensPerMinute)
        try container.encode(requestsLastMinute, forKey: .requestsLastMinute)
        try container.encode(tokensLastMinute, forKey: .tokensLastMinute)
        try container.encode(maxParallelRequests, forKey: .maxParallelRequests)
        try container.encode(runningRequests, forKey: .runningRequests)
    }
}

/// A daily dollar budget on the wire; amounts are exact decimal strings.
public struct WireDollars: Codable, Sendable, Equatable {
    public var limit: String
    public var spent: String
    public var remaining: String
    public var percent: Int
    public var level: String
    public var resetAt: String

    public init(_ dollars: DollarBudget) {
        limit = dollars.limit.decimalString
        spent = dollars.spent.decimalString
        remaining = dollars.remaining.decimalString
        percent = dollars.percent
        level = dollars.level.rawValue
        resetAt = dollars.resetAt.formatted(.iso8601)
    }

    enum CodingKeys: String, CodingKey {
        case limit, spent, remaining, percent, level
        case resetAt = "reset_at"
    }

    /// `{"name", "limit", "spent", …}`: one end user's day (`GET /api/usage/end-user`, a refusal's details).
    public func json(named name: String) -> String {
        "{\"name\":" + JSONText.quote(name) + "," + JSONText.encode(self).dropFirst()
    }

    /// `{"name", "period", "limit", "spent", …}`: a tag's day or month (`period`: "day" or "month"), in a refusal's details.
    public func json(named name: String, period: String) -> String {
        "{\"name\":" + JSONText.quote(name) + ",\"period\":" + JSONText.quote(period) + "," + JSONText.encode(self).dropFirst()
    }
}
