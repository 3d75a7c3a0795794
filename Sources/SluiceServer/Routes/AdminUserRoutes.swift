import Foundation
import Hummingbird
import SluiceCore
import SluiceStore

/// The users of the server, managed by an administrator from the web app (Open WebUI's admin panel, LiteLLM's admin
/// UI) as `sluice user` manages them from a shell:
/// `GET /api/admin/users` lists them with their plans, limits and what they used;
/// `POST /api/admin/users {"name", "plan"?, "admin"?, "password"?}` adds one and shows its token once;
/// `PATCH /api/admin/users/{name}` with any of `plan`, `token_limit`, `daily_usd`, `end_user_daily_usd`,
/// `requests_per_minute`, `tokens_per_minute`, `max_parallel_requests`, `models`, `admin`, `suspended`, `password`,
/// `team` (a team's name, or `null`: none; `AdminTeamRoutes`) changes one (`null` removes a limit, gives the plan's
/// own token limit, or every model; a suspended user's token and keys are refused until restored, and all they made
/// is kept; a new password — or `null`, none — signs the user out of every browser that signed in with the old one);
/// `POST /api/admin/users/{name}/token` issues a new token (the old one stops working);
/// `POST /api/admin/users/{name}/reset` starts the user's token period again;
/// `DELETE /api/admin/users/{name}/sessions` signs the user out of every browser that signed in with a password (a lost
/// laptop; their token link and keys stay: `…/token` replaces the one, the user revokes the others);
/// `DELETE /api/admin/users/{name}/two-step` turns off the user's two-step verification (phone and recovery codes lost);
/// `DELETE /api/admin/users/{name}` deletes what the user made (conversations, projects, prompts), revokes their keys
/// and frees the name, keeping what they spent in the ledger.
/// Only an administrator's own token may: anyone else gets 403, an API key too (a key given to an application must
/// not be able to make users). The server never leaves itself without an administrator.
struct AdminUserRoutes {
    let store: any ConversationStore
    let budgets: (any BudgetStore)?
    let tokens: TokenCache
    /// The served models, which a user may be limited to.
    let models: [String]
    var aliases = ModelAliases()
    let passwords: PasswordHasher
    /// Where each user's security log learns the request's address.
    var clients = ClientAddresses(trustedProxies: ClientAddresses.loopback)
    var securityLog: SecurityLog { SecurityLog(store: store, clients: clients) }
    var audit: AuditTrail { AuditTrail(store: store, budgets: budgets) }

    func register(on api: RouterGroup<SluiceRequestContext>) {
        api.get("admin/users", use: list)
        api.post("admin/users", use: add)
        api.patch("admin/users/:name", use: update)
        api.post("admin/users/:name/token", use: issueToken)
        api.post("admin/users/:name/reset", use: reset)
        api.delete("admin/users/:name/sessions", use: signOutEverywhere)
        api.delete("admin/users/:name/two-step", use: turnOffTwoStep)
        api.delete("admin/users/:name", use: remove)
    }

    @Sendable func list(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        _ = try administrator(context)
        var listed: [WireAdminUser] = []
        // Everyone's last 30 days, budgets, two-step and teams: a few queries whatever the number of users.
        let month = try await lastThirtyDays(of: nil)
        let budgets = try await budgets?.budgets(now: Date())
        let byUser = Dictionary(month.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        let twoStep = try await store.twoStepUserIDs()
        let singleSignOn = try await store.identityUserIDs()
        let teams = try await store.teamNamesByUser()
        for user in try await store.users() {
            listed.append(try await wire(
                user, budget: .some(budgets?[user.id]), lastThirtyDays: byUser[user.id], twoStep: twoStep.contains(user.id),
                singleSignOn: singleSignOn.contains(user.id), team: .some(teams[user.id])))
        }
        return try Self.json(["users": listed])
    }

    @Sendable func add(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let admin = try administrator(context)
        let body = try await JSONObjectBody(request: request, context: context, allowEmpty: false)
        try body.rejectingUnknownFields(["name", "plan", "admin", "password"]) {
            "'\($0)' is not a field of a new user: name, plan, admin, password."
        }
        guard let raw = try body.optionalString("name", maxLength: 1_000), let name = Self.userName(raw) else {
            throw APIError.invalid("'name' must be \(Self.nameRule).")
        }
        let plan = try AdminUserChanges.plan(body) ?? .free
        let password = try AdminUserChanges.password(body, for: name) ?? nil
        let token = AccessToken.generate()
        let makeAdmin = try body.optionalBool("admin") == true
        let user = try await auditing(.userAdded, user: name, by: admin, request, context) {
            var user: User
            do {
                user = try await store.createUser(name: name, plan: plan, tokenHash: AccessToken.hash(token))
            } catch StoreError.conflict {
                throw APIError(.conflict, code: "name_taken", message: "There is already a user named '\(name)'. Pick another name.")
            }
            try await budgets?.setPlan(userID: user.id, plan: plan, tokenLimit: nil)
            if makeAdmin, try await store.setAdmin(userID: user.id, isAdmin: true) { user.isAdmin = true }
            if let password {
                try await store.setPasswordHash(userID: user.id, hash: try await passwords.hash(password))
                user.hasPassword = true
            }
            return user
        }
        context.logger.notice("user added", metadata: [
            "by": "\(admin.name)", "user": "\(user.name)", "plan": "\(plan.rawValue)", "admin": "\(user.isAdmin)",
        ])
        // The token is in this body only: nothing may keep it.
        return try Self.secretJSON(WireNewUser(user: try await wire(user), token: token), status: .created)
    }

    @Sendable func update(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let admin = try administrator(context)
        let user = try await named(context)
        let body = try await JSONObjectBody(request: request, context: context, allowEmpty: false)
        let changes = try AdminUserChanges(body: body, served: models, aliases: aliases, name: user.name)
        guard !body.fields.isEmpty else { throw APIError.invalid("Name what to change: \(AdminUserChanges.fieldList).") }
        // A new password in place of one shows in no setting: the entry says so itself.
        let newPassword = user.hasPassword && (changes.password ?? nil) != nil
        // The change applies at once here — the part made, too, of one that failed half-way; another instance picks
        // it up within the token cache's lifetime.
        defer { tokens.forget(userID: user.id) }
        try await auditing(
            .userChanged, user: user.name, by: admin, request, context,
            extra: newPassword ? [AuditChange("password", from: "set", to: "changed")] : []
        ) { try await apply(changes, to: user, by: admin, request: request, context: context) }
        context.logger.notice("user changed", metadata: [
            "by": "\(admin.name)", "user": "\(user.name)", "fields": "\(body.fields.keys.sorted().joined(separator: ","))",
        ])
        return try Self.json(try await wire(try await store.user(named: user.name) ?? user))
    }

    /// Makes the changes of a `PATCH` to `user`, one by one (each checked by the store as it goes).
    private func apply(
        _ changes: AdminUserChanges, to user: User, by admin: User, request: Request, context: SluiceRequestContext
    ) async throws {
        if let makeAdmin = changes.admin, makeAdmin != user.isAdmin {
            guard try await store.setAdmin(userID: user.id, isAdmin: makeAdmin) else {
                throw APIError(
                    .conflict, code: "last_admin",
                    message: "\(user.name) is the only administrator. Make another user an administrator first.")
            }
        }
        if let suspend = changes.suspended, suspend != (user.suspendedAt != nil) {
            guard !suspend || user.id != admin.id else {
                throw APIError(.conflict, code: "cannot_suspend_self", message: "You cannot suspend yourself. Another administrator may.")
            }
            try await store.setSuspended(userID: user.id, suspended: suspend)
        }
        if let models = changes.models { try await store.setAllowedModels(userID: user.id, models: models) }
        if let team = changes.team { try await AdminTeamRoutes.put(user, in: team, store: store) }
        // (The token cache forgets the user below, so their team's models apply at once here.)
        if let password = changes.password {
            let hash = try await password.asyncMap { try await passwords.hash($0) }
            try await store.setPasswordHash(userID: user.id, hash: hash)
            // Whoever signed in with the old password is signed out (but the administrator changing their own, here).
            let own = user.id == admin.id ? AccessToken.hash(try AuthMiddleware.token(of: request)) : nil
            _ = try await store.endSessions(userID: user.id, keeping: own)
            await securityLog.record(
                hash == nil ? .passwordRemoved : .passwordChanged, for: user, request: request, context: context,
                detail: Self.byAdministrator(admin, of: user))
        }
        if changes.changesBudget {
            guard let budgets else {
                throw APIError(.conflict, code: "no_budgets", message: "This server keeps no budgets: plans and limits cannot be set.")
            }
            if changes.plan != nil || changes.tokenLimit != nil {
                let plan = changes.plan ?? user.plan
                try await budgets.setPlan(userID: user.id, plan: plan, tokenLimit: changes.tokenLimit ?? nil)
            }
            if let daily = changes.dailyUSD { try await budgets.setDailyDollarLimit(userID: user.id, limit: daily) }
            if let perEndUser = changes.endUserDailyUSD { try await budgets.setEndUserDailyDollarLimit(userID: user.id, limit: perEndUser) }
            for (kind, limit) in changes.rates { try await budgets.setRateLimit(kind, userID: user.id, limit: limit) }
        }
    }

    @Sendable func issueToken(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let admin = try administrator(context)
        let user = try await named(context)
        let token = AccessToken.generate()
        try await store.setTokenHash(userID: user.id, tokenHash: AccessToken.hash(token))
        tokens.forget(userID: user.id)
        await record(.userTokenIssued, user: user, by: admin, request, context)
        context.logger.notice("user token issued", metadata: ["by": "\(admin.name)", "user": "\(user.name)"])
        return try Self.secretJSON(WireNewUser(user: try await wire(user), token: token))
    }

    @Sendable func reset(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let admin = try administrator(context)
        let user = try await named(context)
        let used = try await budgets?.budget(userID: user.id, now: Date()).used
        try await budgets?.resetBudget(userID: user.id, now: Date())
        await record(
            .userBudgetReset, user: user, by: admin, request, context,
            changes: used.map { [AuditChange("tokens_used", from: String($0), to: "0")] } ?? [])
        context.logger.notice("user budget reset", metadata: ["by": "\(admin.name)", "user": "\(user.name)"])
        return try Self.json(try await wire(user))
    }

    @Sendable func signOutEverywhere(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let admin = try administrator(context)
        let user = try await named(context)
        // An administrator signing themselves out everywhere keeps the browser they do it from.
        let own = user.id == admin.id ? AccessToken.hash(try AuthMiddleware.token(of: request)) : nil
        let ended = try await store.endSessions(userID: user.id, keeping: own)
        tokens.forget(userID: user.id)
        await record(.userSignedOut, user: user, by: admin, request, context, changes: [.browsersSignedOut(ended)])
        await securityLog.record(
            .signedOutElsewhere, for: user, request: request, context: context,
            detail: [Self.byAdministrator(admin, of: user), Self.browsers(ended)].compactMap { $0 }.joined(separator: "; "))
        context.logger.notice("user signed out everywhere", metadata: [
            "by": "\(admin.name)", "user": "\(user.name)", "sessions_ended": "\(ended)",
        ])
        return try Self.json(["ended_sessions": ended])
    }

    /// Turns the user's two-step verification off, for one who lost their authenticator and their recovery codes:
    /// their password alone signs them in again, and they may set it up anew.
    @Sendable func turnOffTwoStep(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let admin = try administrator(context)
        let user = try await named(context)
        guard try await store.disableTwoStep(userID: user.id) else {
            throw APIError(.conflict, code: "two_step_off", message: "\(user.name) does not have two-step verification on.")
        }
        await securityLog.record(.twoStepOff, for: user, request: request, context: context, detail: Self.byAdministrator(admin, of: user))
        await record(.userTwoStepOff, user: user, by: admin, request, context, changes: [AuditChange("two_step", from: "on", to: nil)])
        context.logger.notice("two-step verification turned off", metadata: ["by": "\(admin.name)", "user": "\(user.name)"])
        return Response(status: .noContent)
    }

    /// Deletes what the user made and frees their name; what they spent stays in the ledger (`deleteUser`).
    @Sendable func remove(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let admin = try administrator(context)
        let user = try await named(context)
        guard user.id != admin.id else {
            throw APIError(.conflict, code: "cannot_delete_self", message: "You cannot delete yourself. Another administrator may.")
        }
        try await auditing(.userDeleted, user: user.name, by: admin, request, context) {
            guard try await store.deleteUser(userID: user.id) else {
                throw APIError(
                    .conflict, code: "last_admin",
                    message: "\(user.name) is the only administrator. Make another user an administrator first.")
            }
        }
        // Refused at once here; another instance finds the token gone within the cache's lifetime.
        tokens.forget(userID: user.id)
        context.logger.notice("user deleted", metadata: ["by": "\(admin.name)", "user": "\(user.name)", "id": "\(user.id)"])
        return Response(status: .noContent)
    }

    /// Runs `change` to the user named `name`, made by `admin`, and records in the audit log what it moved.
    @discardableResult
    private func auditing<T>(
        _ action: AuditAction, user name: String, by admin: User, _ request: Request, _ context: SluiceRequestContext,
        extra: [AuditChange] = [], _ change: () async throws -> T
    ) async throws -> T {
        let audit = audit
        return try await audit.tracking(
            action, on: AuditTarget(.user, name), by: .request(by: admin, request, context, clients: clients), extra: extra,
            settings: { try await audit.user(named: name) }, change)
    }

    /// Records `action` on `user` by `admin` in the audit log, with `changes` said outright.
    private func record(
        _ action: AuditAction, user: User, by admin: User, _ request: Request, _ context: SluiceRequestContext,
        changes: [AuditChange] = []
    ) async {
        await audit.record(
            action, on: AuditTarget(.user, user.name), by: .request(by: admin, request, context, clients: clients), changes: changes)
    }

    /// The signed-in administrator; anyone else, or an API key, gets 403.
    private func administrator(_ context: SluiceRequestContext) throws -> User {
        try context.requireAdministrator(to: "manage users")
    }

    /// The user the path names; 404 when there is none.
    private func named(_ context: SluiceRequestContext) async throws -> User { try await Self.named(context, in: store) }

    /// The user the path's `{name}` names, in `store`; 404 when there is none.
    static func named(_ context: SluiceRequestContext, in store: any ConversationStore) async throws -> User {
        let raw = try context.parameters.require("name")
        let name = raw.removingPercentEncoding ?? raw
        guard let user = try await store.user(named: name) else {
            throw APIError(.notFound, code: "not_found", message: "There is no user named '\(name)'.")
        }
        return user
    }

    /// The user as listed: plan and limits, and what the user used this period, today and in the last 30 days.
    /// `lastThirtyDays`: the user's bucket when the caller read everyone's; else it is read here.
    /// `twoStep`: whether the user's two-step verification is on, when the caller read everyone's; else it is read here.
    /// `team`: the user's team's name, when the caller read everyone's; else it is read here. `budget` and
    /// `singleSignOn` likewise.
    private func wire(
        _ user: User, budget known: BudgetState?? = nil, lastThirtyDays: UsageBucket?? = nil, twoStep: Bool? = nil,
        singleSignOn: Bool? = nil, team: String?? = nil
    ) async throws -> WireAdminUser {
        let budget = if let known { known } else { try await budgets?.budget(userID: user.id, now: Date()) }
        var month = lastThirtyDays ?? nil
        if lastThirtyDays == nil { month = try await self.lastThirtyDays(of: user.id).first }
        let on = if let twoStep { twoStep } else { try await store.twoStep(userID: user.id)?.isOn == true }
        let teamName = if let team { team } else { try await store.teamName(userID: user.id) }
        let tied = if let singleSignOn { singleSignOn } else { try await !store.identityIssuers(userID: user.id).isEmpty }
        return WireAdminUser(user: user, budget: budget, lastThirtyDays: month, twoStep: on, singleSignOn: tied, team: teamName)
    }

    /// The settled usage of the last 30 days per user: one user's, or with `nil` everyone's.
    private func lastThirtyDays(of userID: String?) async throws -> [UsageBucket] {
        try await budgets?.usageHistory(userID: userID, since: Date().addingTimeInterval(-30 * 86_400), groupedBy: .user) ?? []
    }

    /// "by administrator ann" in `user`'s security log, unless it was the user themselves.
    static func byAdministrator(_ admin: User, of user: User) -> String? { admin.id == user.id ? nil : "by administrator \(admin.name)" }

    /// "2 browsers" in a security log.
    static func browsers(_ count: Int) -> String { count == 1 ? "1 browser" : "\(count) browsers" }

    static let nameRule = "1 to 64 characters, not only spaces, without '/' or control characters"

    /// `raw` trimmed, when it is a name a user may have: it goes in paths (`/api/admin/users/{name}`) and on screens.
    static func userName(_ raw: String) -> String? {
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...64).contains(name.count), !name.contains("/"),
              !name.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) })
        else { return nil }
        return name
    }

    static func json(_ value: some Encodable) throws -> Response {
        UsageRoutes.json(String(decoding: try WireJSON.encoder.encode(value), as: UTF8.self))
    }

    /// `value` as JSON that holds a secret shown only here (a token, a key, a two-step secret, recovery codes):
    /// `Cache-Control: no-store`, so that neither the browser nor a proxy keeps it.
    static func secretJSON(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        var response = try json(value)
        response.status = status
        response.headers[.cacheControl] = "no-store"
        return response
    }
}

/// `{"user": {…}, "token"}`: a new user, or a user's new token, shown once.
struct WireNewUser: Encodable {
    let user: WireAdminUser
    let token: String
}
