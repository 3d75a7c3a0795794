import Foundation
import SluiceCore

/// What `PATCH /api/admin/users/{name}` asks to change. Each field is `nil` when left out; for the limits and the
/// models, `.some(nil)` is `null` (no limit, the plan's own token limit, every model). A bad value is a 400 that
/// names the field and its rule.
struct AdminUserChanges {
    var plan: Plan?
    var tokenLimit: Int??
    var dailyUSD: USDAmount??
    var endUserDailyUSD: USDAmount??
    var rates: [(RateLimits.Kind, Int?)] = []
    var models: [String]??
    var admin: Bool?
    /// `true` suspends the user (their token and keys refused), `false` restores them.
    var suspended: Bool?
    /// A new password (its rule checked), or `nil` inside: none.
    var password: String??
    /// The name of the team to put the user in, or `nil` inside: none.
    var team: String??

    static let fieldList =
        "plan, token_limit, daily_usd, end_user_daily_usd, requests_per_minute, tokens_per_minute, max_parallel_requests, models, admin, suspended, password, team"

    /// Whether anything the budget store keeps changes.
    var changesBudget: Bool {
        plan != nil || tokenLimit != nil || dailyUSD != nil || endUserDailyUSD != nil || !rates.isEmpty
    }

    /// `name`: the user changed, whose name a new password may not hold.
    init(body: JSONObjectBody, served: [String], aliases: ModelAliases, name: String) throws {
        try body.rejectingUnknownFields(Set(Self.fieldList.components(separatedBy: ", "))) {
            "'\($0)' cannot be changed here. A user's \(Self.fieldList) can."
        }
        plan = try Self.plan(body)
        tokenLimit = try Self.field(body, "token_limit") { value in
            guard case .number(let text) = value, let limit = Int(text), limit >= 0 else {
                throw APIError.invalid("'token_limit' must be a whole number of tokens from 0, or null for the plan's own.")
            }
            return limit
        }
        dailyUSD = try Self.amount(body, "daily_usd")
        endUserDailyUSD = try Self.amount(body, "end_user_daily_usd")
        rates = try Self.rates(body)
        models = try Self.models(body, served: served, aliases: aliases)
        admin = try body.optionalBool("admin")
        suspended = try body.optionalBool("suspended")
        password = try Self.password(body, for: name)
        team = try Self.field(body, "team") { value in
            guard case .string(let raw) = value, let team = Team.name(raw) else {
                throw APIError.invalid("'team' must be the name of a team (GET /api/admin/teams lists them), or null for none.")
            }
            return team
        }
    }

    /// `requests_per_minute`, `tokens_per_minute` and `max_parallel_requests`, those given (`nil` inside for `null`: no
    /// limit). A user's and a team's are read alike.
    static func rates(_ body: JSONObjectBody) throws -> [(RateLimits.Kind, Int?)] {
        var rates: [(RateLimits.Kind, Int?)] = []
        for (name, kind) in rateFields {
            let limit = try Self.field(body, name) { value in
                guard case .number(let text) = value, let limit = Int(text), (1...RateCaps.highest).contains(limit) else {
                    throw APIError.invalid("'\(name)' must be a whole number from 1 to \(RateCaps.highest), or null for no limit.")
                }
                return limit
            }
            if let limit { rates.append((kind, limit)) }
        }
        return rates
    }

    /// The rate limits' fields, each with its kind.
    static let rateFields: [(String, RateLimits.Kind)] = [
        ("requests_per_minute", .requests), ("tokens_per_minute", .tokens), ("max_parallel_requests", .parallel),
    ]

    /// `models`: served models (an alias names its model), each once; `nil` when left out, `.some(nil)` for `null`
    /// (every model). A user's and a team's models are read alike.
    static func models(_ body: JSONObjectBody, served: [String], aliases: ModelAliases) throws -> [String]?? {
        try field(body, "models") { value in
            let rule = "'models' must be a list of model names from GET /v1/models, or null for every model."
            guard case .array(let items) = value else { throw APIError.invalid(rule) }
            var names: [String] = []
            for item in items {
                guard case .string(let listed) = item else { throw APIError.invalid(rule) }
                let name = aliases.resolve(listed)
                guard served.contains(name) else { throw APIError.invalid("'\(listed)' is not a model this server serves: GET /v1/models lists them.") }
                if !names.contains(name) { names.append(name) }
            }
            guard !names.isEmpty else { throw APIError.invalid(rule) }
            return names
        }
    }

    /// `password`: a password that keeps `PasswordRule` (`nil` left out, `.some(nil)` for `null`: none).
    static func password(_ body: JSONObjectBody, for name: String) throws -> String?? {
        try field(body, "password") { value in
            guard case .string(let password) = value else { throw APIError.invalid("'password' must be text, or null for none.") }
            return try PasswordRule.checked(password, for: name)
        }
    }

    /// `plan`: free, pro or unlimited.
    static func plan(_ body: JSONObjectBody) throws -> Plan? {
        guard let text = try body.optionalString("plan", maxLength: 100) else { return nil }
        guard let plan = Plan(rawValue: text) else {
            throw APIError.invalid("'plan' must be one of \(Plan.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        return plan
    }

    /// A field's value: `nil` when left out, `.some(nil)` for `null`, else what `read` makes of it.
    private static func field<Value>(_ body: JSONObjectBody, _ name: String, _ read: (JSONValue) throws -> Value) throws -> Value?? {
        switch body.fields[name] {
        case nil: return nil
        case .null?: return .some(nil)
        case let value?: return .some(try read(value))
        }
    }

    /// An amount of dollars above 0, as text or a number ("5", 0.25).
    private static func amount(_ body: JSONObjectBody, _ name: String) throws -> USDAmount?? {
        try field(body, name) { try KeyTermsBody.dollars($0, field: name, otherwise: "null for no limit") }
    }
}

/// A user as the administrator's list shows it: who, plan and limits, and use of them (this token period, today, the
/// last 30 days). Never a token.
struct WireAdminUser: Encodable {
    let id: String
    let name: String
    let plan: Plan
    let admin: Bool
    /// Whether the user may sign in with a password.
    let hasPassword: Bool
    /// Whether the user's password sign-in asks for an authenticator's code too.
    let twoStep: Bool
    /// Whether a sign-in provider's account signs the user in (`serve --oidc-issuer`).
    let singleSignOn: Bool
    /// Whether the user made their own account and waits for approval (`suspended_at` is set meanwhile).
    let pending: Bool
    /// When an administrator suspended the user; `null`, not suspended.
    @ExplicitNull var suspendedAt: Date?
    let createdAt: Date
    /// `null`: every model the server serves.
    @ExplicitNull var models: [String]?
    @ExplicitNull var tokensUsed: Int?
    /// `null`: unlimited.
    @ExplicitNull var tokenLimit: Int?
    @ExplicitNull var resetsAt: Date?
    @ExplicitNull var dailyUsdLimit: String?
    @ExplicitNull var spentTodayUsd: String?
    @ExplicitNull var endUserDailyUsdLimit: String?
    @ExplicitNull var requestsPerMinute: Int?
    @ExplicitNull var tokensPerMinute: Int?
    @ExplicitNull var maxParallelRequests: Int?
    let turns30d: Int
    let tokens30d: Int
    let costUsd30d: String
    @ExplicitNull var lastTurnAt: Date?
    /// The user's team's name; `null`: in none.
    @ExplicitNull var team: String?

    private enum CodingKeys: String, CodingKey {
        case id, name, plan, admin, hasPassword, twoStep, singleSignOn, team, pending, suspendedAt, createdAt, models, tokensUsed, tokenLimit, resetsAt, dailyUsdLimit, spentTodayUsd
        case endUserDailyUsdLimit, requestsPerMinute, tokensPerMinute, maxParallelRequests, lastTurnAt
        case turns30d = "turns_30d", tokens30d = "tokens_30d", costUsd30d = "cost_usd_30d"
    }

    /// `lastThirtyDays`: the user's usage bucket of the last 30 days (`nil`: none).
    /// `team`: the user's team's name, read with `teamNamesByUser` (the budget names it too, but only with budgets kept).
    init(user: User, budget: BudgetState?, lastThirtyDays: UsageBucket?, twoStep: Bool, singleSignOn: Bool, team: String?) {
        self.twoStep = twoStep
        self.singleSignOn = singleSignOn
        self.team = team
        id = user.id
        name = user.name
        plan = user.plan
        admin = user.isAdmin
        hasPassword = user.hasPassword
        pending = user.isPending
        suspendedAt = user.suspendedAt
        createdAt = user.createdAt
        models = user.allowedModels
        tokensUsed = budget?.used
        tokenLimit = budget?.limit
        resetsAt = budget?.resetAt
        dailyUsdLimit = budget?.dailyDollars?.limit.decimalString
        spentTodayUsd = budget?.dailyDollars?.spent.decimalString
        endUserDailyUsdLimit = budget?.endUserDailyLimit?.decimalString
        requestsPerMinute = budget?.rateLimits?.requestsPerMinute
        tokensPerMinute = budget?.rateLimits?.tokensPerMinute
        maxParallelRequests = budget?.rateLimits?.maxParallel
        turns30d = lastThirtyDays?.turns ?? 0
        tokens30d = lastThirtyDays?.totalTokens ?? 0
        costUsd30d = (lastThirtyDays?.cost ?? .zero).decimalString
        lastTurnAt = lastThirtyDays?.lastTurnAt
    }
}
