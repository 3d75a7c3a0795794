import Foundation
import Hummingbird
import Logging
import SluiceCore

/// Writes the administrators' audit log (`AuditEntry`) as users, teams and API keys are made, changed and deleted —
/// by the API (the web app's Users page is one) and by `sluice user|team|key …` on the server alike. A change is
/// recorded as the settings it moved, each read back from the store before and after (`Settings`), so that what is
/// written is what happened, however it was asked for, and a change that failed half-way records the half that
/// was made. A change that moved nothing is not written. Entries are kept for `retention`.
public struct AuditTrail: Sendable {
    /// A thing's settings in a stable order, each as text (`nil`: none).
    public typealias Settings = [(String, String?)]

    let store: any ConversationStore
    let budgets: (any BudgetStore)?
    /// Long enough for a yearly review to see the whole year.
    public static let retention: TimeInterval = 400 * 86_400

    public init(store: any ConversationStore, budgets: (any BudgetStore)?) {
        self.store = store
        self.budgets = budgets
    }

    /// Runs `change`, then records `action` on `target` with the settings it moved (`settings` read before and
    /// after; `settingsAfter`, when given, reads the after — a team renamed) and `extra` — also when `change`
    /// throws, if it moved anything before it did.
    public func tracking<T>(
        _ action: AuditAction, on target: AuditTarget, by source: AuditSource, extra: [AuditChange] = [], settings: () async throws -> Settings, settingsAfter: (() async throws -> Settings)? = nil,
        _ change: () async throws -> T
    ) async throws -> T {
        let before = try await settings()
        let result: T
        do {
            result = try await change()
        } catch {
            let read = if let settingsAfter { try? await settingsAfter() } else { try? await settings() }
            let after = read ?? before
            let moved = AuditChange.between(before, after)
            if !moved.isEmpty { await record(action, on: target, by: source, changes: moved) }
            throw error
        }
        let after = if let settingsAfter { try await settingsAfter() } else { try await settings() }
        await record(action, on: target, by: source, changes: AuditChange.between(before, after) + extra)
        return result
    }

    /// Adds an entry. A change (`*.changed`) that moved nothing is not written. A write that fails is logged, not
    /// thrown: the change has happened, and whoever made it should hear that it did.
    public func record(
        _ action: AuditAction, on target: AuditTarget, by source: AuditSource, changes: [AuditChange]
    ) async {
        if changes.isEmpty, [.userChanged, .teamChanged, .keyChanged, .tagBudgetSet].contains(action) { return }
        let now = Date()
        let entry = AuditEntry(
            id: Identifier.make(), at: now, actor: source.actor, action: action, target: target, changes: changes,
            origin: source.origin)
        do {
            try await store.recordAudit(entry, forgettingBefore: now.addingTimeInterval(-Self.retention))
        } catch {
            source.logger.warning("audit log not written", metadata: ["action": "\(action.rawValue)", "error": "\(error)"])
        }
    }

    /// A user's settings: plan and limits, models, team, role and state, and whether they have a password and
    /// two-step verification (never the password or a token itself). None for a user who does not exist.
    public func user(named name: String) async throws -> Settings {
        guard let user = try await store.user(named: name) else { return [] }
        var settings: Settings = [("plan", user.plan.rawValue)]
        if let budgets {
            let budget = try await budgets.budget(userID: user.id, now: Date())
            settings += [
                ("token_limit", budget.limit.map(String.init)), ("daily_usd", budget.dailyDollars?.limit.decimalString),
                ("end_user_daily_usd", budget.endUserDailyLimit?.decimalString),
            ]
            settings += Self.rates(budget.rateLimits.map {
                RateCaps(requestsPerMinute: $0.requestsPerMinute, tokensPerMinute: $0.tokensPerMinute, maxParallel: $0.maxParallel)
            } ?? .none)
        }
        let status = user.isPending ? "waiting for approval" : user.suspendedAt == nil ? "active" : "suspended"
        settings += [
            ("models", Self.list(user.allowedModels)), ("team", try await store.teamName(userID: user.id)),
            ("admin", user.isAdmin ? "yes" : "no"), ("status", status), ("password", user.hasPassword ? "set" : nil),
            ("two_step", try await store.twoStep(userID: user.id)?.isOn == true ? "on" : nil),
        ]
        return settings
    }

    /// A team's settings: name, limits, models and members. None for a team that does not exist.
    public func team(named name: String) async throws -> Settings {
        guard let team = try await store.team(named: name),
              let summary = try await store.teams(now: Date()).first(where: { $0.team.id == team.id })
        else { return [] }
        let names = Dictionary(try await store.users().map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        return [
            ("name", team.name), ("daily_usd", team.dailyDollarLimit?.decimalString),
            ("monthly_usd", team.monthlyDollarLimit?.decimalString),
        ] + Self.rates(team.rateCaps) + [
            ("models", Self.list(team.allowedModels)),
            ("members", Self.list(summary.memberIDs.compactMap { names[$0] }.sorted())),
        ]
    }

    /// The settings of the user's key labelled `label`: its terms and whether it is revoked. None when there is none.
    public func key(userID: String, label: String) async throws -> Settings {
        // The working key with the label, or else the latest revoked one (a label is free again once revoked).
        let keys = try await store.apiKeys(userID: userID).filter { $0.label == label }
        guard let key = keys.first(where: { $0.revokedAt == nil }) ?? keys.max(by: { $0.createdAt < $1.createdAt }) else {
            return []
        }
        return [
            ("label", key.label), ("expires_at", key.expiresAt.map { $0.formatted(.iso8601) }),
            ("models", Self.list(key.allowedModels)), ("daily_usd", key.dailyDollarLimit?.decimalString),
        ] + Self.rates(key.rateCaps) + [("tags", Self.list(key.tags)), ("revoked", key.revokedAt == nil ? nil : "yes")]
    }

    /// The limits of the tag's budget; none when it has none (or there is no budget store).
    public func tagBudget(_ tag: String) async throws -> Settings {
        guard let budget = try await budgets?.tagBudgets(now: Date()).first(where: { $0.budget.tag == tag })?.budget else {
            return []
        }
        return [
            ("daily_usd", budget.dailyDollarLimit?.decimalString), ("monthly_usd", budget.monthlyDollarLimit?.decimalString),
        ]
    }

    private static func rates(_ caps: RateCaps) -> Settings {
        [
            ("requests_per_minute", caps.requestsPerMinute.map(String.init)),
            ("tokens_per_minute", caps.tokensPerMinute.map(String.init)),
            ("max_parallel_requests", caps.maxParallel.map(String.init)),
        ]
    }

    /// A list as one text (`nil`: no list — every model, no members).
    private static func list(_ items: [String]?) -> String? {
        guard let items, !items.isEmpty else { return nil }
        return items.joined(separator: ", ")
    }
}

/// Who makes a change and from where, and the logger a failed write of its entry is reported to: built once for a
/// request or a command, and given to each entry it writes.
public struct AuditSource: Sendable {
    let actor: AuditActor
    let origin: SessionOrigin
    let logger: Logger

    /// A command run in the server's shell, named as typed (`sluice team create`): no address.
    public static func command(_ command: String, logger: Logger) -> AuditSource {
        AuditSource(actor: .command(command), origin: SessionOrigin(userAgent: nil, address: nil), logger: logger)
    }

    /// `user`'s request through the API, from where `clients` says it came.
    static func request(
        by user: User, _ request: Request, _ context: SluiceRequestContext, clients: ClientAddresses
    ) -> AuditSource {
        AuditSource(
            actor: AuditActor(userID: user.id, name: user.name),
            origin: SignInRoutes.origin(of: request, context: context, clients: clients), logger: context.logger)
    }
}
