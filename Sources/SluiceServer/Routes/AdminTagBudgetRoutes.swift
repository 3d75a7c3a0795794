import Foundation
import Hummingbird
import SluiceCore

/// Budgets per tag, managed by an administrator (LiteLLM's tag budgets): a daily and a monthly dollar limit on every
/// call that carries a tag — its own (`metadata.tags`, `x-sluice-tags`) or its key's — whoever makes it, held in the
/// same atomic step as the caller's own limits and refused before any tokens are spent once it would pass one.
/// `GET /api/admin/tag-budgets` lists them with what their calls spent today and this month;
/// `PUT /api/admin/tag-budgets/{tag} {"daily_usd"?, "monthly_usd"?}` sets one (at least one limit; `null` or left
/// out: none; 201 when new, which counts what the tag's calls already spent this month);
/// `DELETE /api/admin/tag-budgets/{tag}` removes one. Each change is in the audit log. Only an administrator may:
/// others get 403.
struct AdminTagBudgetRoutes {
    let store: any ConversationStore
    let budgets: (any BudgetStore)?
    /// Where the audit log learns the request's address.
    var clients = ClientAddresses(trustedProxies: ClientAddresses.loopback)

    func register(on api: RouterGroup<SluiceRequestContext>) {
        api.get("admin/tag-budgets", use: list)
        api.put("admin/tag-budgets/:tag", use: set)
        api.delete("admin/tag-budgets/:tag", use: remove)
    }

    @Sendable func list(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        _ = try administrator(context)
        let listed = try await budgetStore().tagBudgets(now: Date()).map(WireTagBudget.init)
        return try AdminUserRoutes.json(["tag_budgets": listed])
    }

    @Sendable func set(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let admin = try administrator(context)
        let budgets = try budgetStore()
        let tag = try Self.tag(context)
        let body = try await JSONObjectBody(request: request, context: context, allowEmpty: false)
        try body.rejectingUnknownFields(Set(Self.fields)) {
            "'\($0)' is not a field of a tag's budget: \(Self.fields.joined(separator: ", "))."
        }
        let daily = try Self.limit(body, "daily_usd")
        let monthly = try Self.limit(body, "monthly_usd")
        guard daily != nil || monthly != nil else {
            throw APIError.invalid(
                "Give 'daily_usd', 'monthly_usd' or both. To remove the tag's budget, DELETE /api/admin/tag-budgets/{tag}.")
        }
        let existed = try await budgets.tagBudgets(now: Date()).contains { $0.budget.tag == tag }
        let audit = AuditTrail(store: store, budgets: budgets)
        _ = try await audit.tracking(
            .tagBudgetSet, on: AuditTarget(.tag, tag), by: .request(by: admin, request, context, clients: clients),
            settings: { try await audit.tagBudget(tag) }
        ) {
            try await budgets.setTagBudget(tag: tag, dailyDollarLimit: daily, monthlyDollarLimit: monthly, now: Date())
        }
        context.logger.notice("tag budget set", metadata: [
            "by": "\(admin.name)", "tag": "\(tag)", "daily_usd": "\(daily?.decimalString ?? "none")",
            "monthly_usd": "\(monthly?.decimalString ?? "none")",
        ])
        guard let summary = try await budgets.tagBudgets(now: Date()).first(where: { $0.budget.tag == tag }) else {
            throw Self.notFound(tag)
        }
        var response = try AdminUserRoutes.json(WireTagBudget(summary))
        if !existed { response.status = .created }
        return response
    }

    @Sendable func remove(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let admin = try administrator(context)
        let budgets = try budgetStore()
        let tag = try Self.tag(context)
        let audit = AuditTrail(store: store, budgets: budgets)
        try await audit.tracking(
            .tagBudgetRemoved, on: AuditTarget(.tag, tag), by: .request(by: admin, request, context, clients: clients),
            settings: { try await audit.tagBudget(tag) }
        ) {
            guard try await budgets.removeTagBudget(tag: tag) else { throw Self.notFound(tag) }
        }
        context.logger.notice("tag budget removed", metadata: ["by": "\(admin.name)", "tag": "\(tag)"])
        return Response(status: .noContent)
    }

    private func administrator(_ context: SluiceRequestContext) throws -> User {
        try context.requireAdministrator(to: "manage tag budgets")
    }

    /// Budgets are kept with the usage ledger: a server without one (no accounting) has none to set.
    private func budgetStore() throws -> any BudgetStore {
        guard let budgets else {
            throw APIError(
                .notFound, code: "not_found", message: "This server keeps no usage ledger, so tags cannot have budgets.")
        }
        return budgets
    }

    /// The path's `{tag}`, as a call's tags are checked (`UsageTags.rule`).
    private static func tag(_ context: SluiceRequestContext) throws -> String {
        let raw = try context.parameters.require("tag")
        let decoded = raw.removingPercentEncoding ?? raw
        guard let tags = UsageTags.checked([decoded]), tags.count == 1, let tag = tags.first else {
            throw APIError.invalid("A tag must be 1 to \(UsageTags.longest) characters, without commas or control characters.")
        }
        return tag
    }

    static let fields = ["daily_usd", "monthly_usd"]

    /// `daily_usd` or `monthly_usd` (`field`): `nil` when left out or `null` (no such limit).
    private static func limit(_ body: JSONObjectBody, _ field: String) throws -> USDAmount? {
        switch body.fields[field] {
        case nil, .null?: nil
        case let value?: try KeyTermsBody.dollars(value, field: field, otherwise: "null for no limit")
        }
    }

    static func notFound(_ tag: String) -> APIError {
        APIError(
            .notFound, code: "not_found",
            message: "The tag '\(tag)' has no budget. GET /api/admin/tag-budgets lists the tags that have one.")
    }
}

/// A tag's budget as the administrator's list shows it: `{"tag","daily_usd_limit","monthly_usd_limit",
/// "spent_today_usd","spent_this_month_usd","created_at"}`, amounts as exact decimal strings, a limit `null` when
/// there is none.
struct WireTagBudget: Encodable {
    let tag: String
    @ExplicitNull var dailyUsdLimit: String?
    @ExplicitNull var monthlyUsdLimit: String?
    let spentTodayUsd: String
    let spentThisMonthUsd: String
    let createdAt: Date

    init(_ summary: TagBudgetSummary) {
        tag = summary.budget.tag
        dailyUsdLimit = summary.budget.dailyDollarLimit?.decimalString
        monthlyUsdLimit = summary.budget.monthlyDollarLimit?.decimalString
        spentTodayUsd = summary.spentToday.decimalString
        spentThisMonthUsd = summary.spentThisMonth.decimalString
        createdAt = summary.budget.createdAt
    }
}
