import Foundation

/// A budget on the wire: `{"plan","used","limit","remaining","percent","level","reset_at"}`.
public struct WireBudget: Codable, Sendable, Equatable {
    public var plan: String
    public var used: Int
    public var limit: Int?
    public var remaining: Int?
    public var percent: Int?
    public var level: String
    public var resetAt: String

    public init(_ budget: BudgetState) {
        plan = budget.plan.rawValue
        used = budget.used
        limit = budget.limit
        remaining = budget.remaining
        percent = budget.percent
        level = budget.level.rawValue
        let formatter = ISO8601DateFormatter()
        resetAt = formatter.string(from: budget.resetAt)
    }

    enum CodingKeys: String, CodingKey {
        case plan, used, limit, remaining, percent, level
        case resetAt = "reset_at"
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
    }

    public var json: String { JSONText.encode(self) }
}
