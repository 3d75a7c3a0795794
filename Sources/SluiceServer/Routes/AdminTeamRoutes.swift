import Foundation
import Hummingbird
import SluiceCore

/// Teams, managed by an administrator (LiteLLM's teams, Open WebUI's groups): users who share a daily and a monthly
/// spending limit and limits per minute and at once, on top of each one's own. Every turn of a member is held against
/// the team's limits in the same atomic step as the member's own, and refused before any tokens are spent once it
/// would pass one. `GET /api/admin/teams` lists them with their members and what they spent today and this month;
/// `POST /api/admin/teams {"name", "daily_usd"?, "monthly_usd"?, "requests_per_minute"?, "tokens_per_minute"?,
/// "max_parallel_requests"?, "models"?, "members"?}` makes one (members by user name, moved out of any other team;
/// `models`: what the members may use, within their own); `PATCH /api/admin/teams/{name}` with any of those but
/// `members` (`null`: no limit, every model) changes one;
/// `DELETE /api/admin/teams/{name}` deletes one (its members stay, in no team; the ledger keeps what was spent).
/// A user joins or leaves with `PATCH /api/admin/users/{name} {"team": …}`. Only an administrator may: others get 403.
struct AdminTeamRoutes {
    let store: any ConversationStore
    let tokens: TokenCache
    /// The served models, which a team may be limited to.
    let models: [String]
    var aliases = ModelAliases()
    /// Where the audit log learns the request's address.
    var clients = ClientAddresses(trustedProxies: ClientAddresses.loopback)

    func register(on api: RouterGroup<SluiceRequestContext>) {
        api.get("admin/teams", use: list)
        api.post("admin/teams", use: add)
        api.patch("admin/teams/:name", use: update)
        api.delete("admin/teams/:name", use: remove)
    }

    @Sendable func list(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        _ = try administrator(context)
        return try AdminUserRoutes.json(["teams": try await listed()])
    }

    @Sendable func add(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let admin = try administrator(context)
        let body = try await JSONObjectBody(request: request, context: context, allowEmpty: false)
        try body.rejectingUnknownFields(Set(Self.fields + ["members"])) {
            "'\($0)' is not a field of a new team: \(Self.fields.joined(separator: ", ")), members."
        }
        let name = try Self.name(body) ?? { throw APIError.invalid("'name' must be \(Team.nameRule).") }()
        let limit = try Self.limit(body, "daily_usd") ?? nil
        let monthly = try Self.limit(body, "monthly_usd") ?? nil
        let rates = try AdminUserChanges.rates(body)
        let allowed = try AdminUserChanges.models(body, served: models, aliases: aliases) ?? nil
        // Every member is found before anything is made: a misspelt name changes nothing.
        var members: [User] = []
        if let field = body.fields["members"] {
            guard case .array(let items) = field else { throw APIError.invalid("'members' must be a list of user names.") }
            for item in items {
                guard case .string(let memberName) = item, let user = try await store.user(named: memberName) else {
                    throw APIError(.notFound, code: "not_found", message: "'members' names a user who does not exist: \(item).")
                }
                members.append(user)
            }
        }
        let team = try await auditing(.teamAdded, team: name, by: admin, request, context) {
            let team: Team
            do {
                team = try await store.createTeam(name: name, dailyDollarLimit: limit, monthlyDollarLimit: monthly)
            } catch StoreError.conflict {
                throw Self.nameTaken(name)
            }
            if let allowed { try await store.setTeamModels(id: team.id, models: allowed) }
            for (kind, limit) in rates { try await store.setTeamRateLimit(kind, id: team.id, limit: limit) }
            for member in members {
                try await store.setTeam(userID: member.id, teamID: team.id)
                tokens.forget(userID: member.id)
            }
            return team
        }
        context.logger.notice("team added", metadata: [
            "by": "\(admin.name)", "team": "\(name)", "daily_usd": "\(limit?.decimalString ?? "none")",
            "monthly_usd": "\(monthly?.decimalString ?? "none")", "members": "\(members.count)",
        ])
        var response = try AdminUserRoutes.json(try await wire(team.id))
        response.status = .created
        return response
    }

    @Sendable func update(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let admin = try administrator(context)
        let team = try await named(context)
        let body = try await JSONObjectBody(request: request, context: context, allowEmpty: false)
        try body.rejectingUnknownFields(Set(Self.fields)) {
            "'\($0)' cannot be changed here. A team's \(Self.fields.joined(separator: ", ")) can."
        }
        guard !body.fields.isEmpty else { throw APIError.invalid("Name what to change: \(Self.fields.joined(separator: ", ")).") }
        let newName = try Self.name(body)
        let limit = try Self.limit(body, "daily_usd")
        let monthly = try Self.limit(body, "monthly_usd")
        let rates = try AdminUserChanges.rates(body)
        let allowed = try AdminUserChanges.models(body, served: models, aliases: aliases)
        do {
            // Renamed, the team's settings after are read by its new name.
            let renamed = newName ?? team.name
            try await auditing(.teamChanged, team: team.name, after: renamed, by: admin, request, context) {
                if let newName, newName != team.name { try await store.renameTeam(id: team.id, to: newName) }
                if let limit { try await store.setTeamDailyDollarLimit(id: team.id, limit: limit) }
                if let monthly { try await store.setTeamMonthlyDollarLimit(id: team.id, limit: monthly) }
                for (kind, limit) in rates { try await store.setTeamRateLimit(kind, id: team.id, limit: limit) }
                if let allowed {
                    try await store.setTeamModels(id: team.id, models: allowed)
                    // At once here; another instance picks it up within the token cache's lifetime.
                    try await forgetMembers(of: team.id)
                }
            }
        } catch StoreError.conflict {
            throw Self.nameTaken(newName ?? team.name)
        } catch StoreError.notFound {
            throw Self.notFound(team.name)
        }
        context.logger.notice("team changed", metadata: [
            "by": "\(admin.name)", "team": "\(team.name)", "fields": "\(body.fields.keys.sorted().joined(separator: ","))",
        ])
        return try AdminUserRoutes.json(try await wire(team.id))
    }

    @Sendable func remove(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let admin = try administrator(context)
        let team = try await named(context)
        let members = try await memberIDs(of: team.id)
        try await auditing(.teamDeleted, team: team.name, by: admin, request, context) {
            guard try await store.deleteTeam(id: team.id) else { throw Self.notFound(team.name) }
        }
        for member in members { tokens.forget(userID: member) }
        context.logger.notice("team deleted", metadata: ["by": "\(admin.name)", "team": "\(team.name)"])
        return Response(status: .noContent)
    }

    /// Runs `change` to the team named `name` (`after`: its name afterwards, when renamed), made by `admin`, and
    /// records in the audit log what it moved.
    @discardableResult
    private func auditing<T>(
        _ action: AuditAction, team name: String, after: String? = nil, by admin: User, _ request: Request,
        _ context: SluiceRequestContext, _ change: () async throws -> T
    ) async throws -> T {
        let audit = AuditTrail(store: store, budgets: nil)
        return try await audit.tracking(
            action, on: AuditTarget(.team, name), by: .request(by: admin, request, context, clients: clients),
            settings: { try await audit.team(named: name) }, settingsAfter: { try await audit.team(named: after ?? name) }, change)
    }

    /// Forgets the cached credentials of the team's members, whose models it changed.
    private func forgetMembers(of teamID: String) async throws {
        for member in try await memberIDs(of: teamID) { tokens.forget(userID: member) }
    }

    /// The user ids of the team's members (none for a team that is gone).
    private func memberIDs(of teamID: String) async throws -> [String] {
        try await store.teams(now: Date()).first { $0.team.id == teamID }?.memberIDs ?? []
    }

    /// Puts `user` in the team named `teamName`, or with `nil` in none (`PATCH /api/admin/users/{name}`'s `team`).
    static func put(_ user: User, in teamName: String?, store: any ConversationStore) async throws {
        guard let teamName else { return try await store.setTeam(userID: user.id, teamID: nil) }
        guard let team = try await store.team(named: teamName) else { throw notFound(teamName) }
        do {
            try await store.setTeam(userID: user.id, teamID: team.id)
        } catch StoreError.notFound {
            throw notFound(teamName)
        }
    }

    /// Every team as listed, its members by name.
    private func listed() async throws -> [WireTeam] {
        let names = Dictionary(try await store.users().map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        return try await store.teams(now: Date()).map { WireTeam($0, memberNames: names) }
    }

    /// One team as listed.
    private func wire(_ id: String) async throws -> WireTeam {
        guard let team = try await listed().first(where: { $0.id == id }) else { throw Self.notFound(id) }
        return team
    }

    private func administrator(_ context: SluiceRequestContext) throws -> User {
        try context.requireAdministrator(to: "manage teams")
    }

    /// The team the path's `{name}` names; 404 when there is none.
    private func named(_ context: SluiceRequestContext) async throws -> Team {
        let raw = try context.parameters.require("name")
        let name = raw.removingPercentEncoding ?? raw
        guard let team = try await store.team(named: name) else { throw Self.notFound(name) }
        return team
    }

    /// The fields a team has (besides a new team's `members`).
    static let fields = [
        "name", "daily_usd", "monthly_usd", "requests_per_minute", "tokens_per_minute", "max_parallel_requests", "models",
    ]

    /// `name` checked and trimmed; `nil` when left out.
    private static func name(_ body: JSONObjectBody) throws -> String? {
        guard let raw = try body.optionalString("name", maxLength: 1_000) else { return nil }
        guard let name = Team.name(raw) else { throw APIError.invalid("'name' must be \(Team.nameRule).") }
        return name
    }

    /// `daily_usd` or `monthly_usd` (`field`): `nil` when left out, `.some(nil)` for `null` (no limit).
    private static func limit(_ body: JSONObjectBody, _ field: String) throws -> USDAmount?? {
        switch body.fields[field] {
        case nil: nil
        case .null?: .some(nil)
        case let value?: .some(try KeyTermsBody.dollars(value, field: field, otherwise: "null for no limit"))
        }
    }

    private static func nameTaken(_ name: String) -> APIError {
        APIError(.conflict, code: "name_taken", message: "There is already a team named '\(name)'. Pick another name.")
    }

    static func notFound(_ name: String) -> APIError {
        APIError(.notFound, code: "not_found", message: "There is no team named '\(name)'. GET /api/admin/teams lists them.")
    }
}

/// A team as the administrator's list shows it: `{"id","name","daily_usd_limit","monthly_usd_limit","spent_today_usd",
/// "spent_this_month_usd","requests_per_minute","tokens_per_minute","max_parallel_requests","models","members",
/// "created_at"}`, amounts as exact decimal strings, a limit `null` when there is none (`models`: every model).
struct WireTeam: Encodable {
    let id: String
    let name: String
    @ExplicitNull var models: [String]?
    @ExplicitNull var dailyUsdLimit: String?
    @ExplicitNull var monthlyUsdLimit: String?
    let spentTodayUsd: String
    let spentThisMonthUsd: String
    @ExplicitNull var requestsPerMinute: Int?
    @ExplicitNull var tokensPerMinute: Int?
    @ExplicitNull var maxParallelRequests: Int?
    let members: [String]
    let createdAt: Date

    init(_ summary: TeamSummary, memberNames: [String: String]) {
        id = summary.team.id
        name = summary.team.name
        models = summary.team.allowedModels
        dailyUsdLimit = summary.team.dailyDollarLimit?.decimalString
        monthlyUsdLimit = summary.team.monthlyDollarLimit?.decimalString
        spentTodayUsd = summary.spentToday.decimalString
        spentThisMonthUsd = summary.spentThisMonth.decimalString
        requestsPerMinute = summary.team.rateCaps.requestsPerMinute
        tokensPerMinute = summary.team.rateCaps.tokensPerMinute
        maxParallelRequests = summary.team.rateCaps.maxParallel
        members = summary.memberIDs.compactMap { memberNames[$0] }
        createdAt = summary.team.createdAt
    }
}
