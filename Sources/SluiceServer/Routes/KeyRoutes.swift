import Foundation
import Hummingbird
import SluiceCore
import SluiceStore

/// A user's own labelled API keys (`APIKey`), as OpenAI's and Open WebUI's account pages manage them:
/// `GET /api/keys` lists them with what each has spent, `POST /api/keys {"label", "expires_in_days"?, "models"?,
/// "daily_usd"?, "requests_per_minute"?, "tokens_per_minute"?, "max_parallel_requests"?}` makes one and shows it once,
/// `PATCH /api/keys/{label}` with any of those but the label changes them (`null` removes one),
/// `DELETE /api/keys/{label}` revokes one. Only the user's own token (the web app's sign-in) may manage keys: a
/// key that leaked must not be able to mint more keys or revoke the owner's others.
struct KeyRoutes {
    let store: any ConversationStore
    let budgets: (any BudgetStore)?
    let tokens: TokenCache
    /// The served models, which a key may be limited to.
    let models: [String]
    /// Other names of the models (`GET /v1/models` lists them): a key limited to one is limited to its model.
    var aliases = ModelAliases()
    /// Where the audit log learns the request's address.
    var clients = ClientAddresses(trustedProxies: ClientAddresses.loopback)
    /// How many working keys a user may have: enough for every application and teammate, not a flood.
    static let mostWorkingKeys = 100

    func register(on api: RouterGroup<SluiceRequestContext>) {
        api.get("keys", use: list)
        api.post("keys", use: add)
        api.patch("keys/:label", use: update)
        api.delete("keys/:label", use: revoke)
    }

    @Sendable func list(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let keys = try await store.apiKeys(userID: user.id)
        let current = context.apiKey.flatMap { use in keys.first { $0.id == use.id }?.label }
        let listed = WireKeyList(keys: try await listing(keys, userID: user.id), currentKey: current)
        return UsageRoutes.json(String(decoding: try WireJSON.encoder.encode(listed), as: UTF8.self))
    }

    /// `keys` as listed: each with what its settled turns used, ever, under a daily limit what it spent today, and
    /// under rate limits its use of them now.
    private func listing(_ keys: [APIKey], userID: String) async throws -> [WireKeyList.Key] {
        let usage = try await budgets?.usageHistory(userID: userID, since: .distantPast, groupedBy: .apiKey) ?? []
        let spent = Dictionary(usage.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        // Today's spending against a key's own daily limit: settled and held, as the hold counts it.
        var today: [String: USDAmount] = [:]
        // Under rate limits of its own: the key's last minute and running answers, as its next hold counts them.
        var rates: [String: RateLimits] = [:]
        if let budgets {
            let now = Date()
            for key in keys where key.revokedAt == nil {
                if key.dailyDollarLimit != nil {
                    today[key.id] = try await budgets.apiKeySpentToday(userID: userID, apiKeyID: key.id, now: now)
                }
                if !key.rateCaps.isEmpty {
                    rates[key.id] = try await budgets.apiKeyRateLimits(userID: userID, apiKeyID: key.id, caps: key.rateCaps, now: now)
                }
            }
        }
        return keys.map { WireKeyList.Key($0, usage: spent[$0.id], spentToday: today[$0.id], rates: rates[$0.id]) }
    }

    @Sendable func add(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try ownTokenUser(context)
        let body = try await JSONObjectBody(request: request, context: context, allowEmpty: false)
        guard let label = try body.optionalString("label", maxLength: 1_000).flatMap(APIKey.label) else {
            throw APIError.invalid("'label' must be \(APIKey.labelRule): what or who the key is for.")
        }
        let now = Date()
        let terms = APIKey.Terms(try KeyTermsBody(body: body, served: models, aliases: aliases, user: user).changes(now: now))
        let working = try await store.apiKeys(userID: user.id).filter { $0.works(at: now) }
        guard working.count < Self.mostWorkingKeys else {
            throw APIError(
                .conflict, code: "too_many_keys",
                message: "You have \(working.count) working keys, the most a user may have. Revoke one you no longer use first.")
        }
        let token = AccessToken.generate()
        let key = try await auditing(.keyAdded, label: label, of: user, request, context) {
            do {
                return try await store.addAPIKey(userID: user.id, label: label, tokenHash: AccessToken.hash(token), terms: terms)
            } catch StoreError.conflict {
                throw APIError(
                    .conflict, code: "label_taken",
                    message: "You already have a key labelled '\(label)' (a revoked key keeps its label). Pick another label.")
            }
        }
        let created = WireNewKey(
            label: key.label, key: token, createdAt: key.createdAt, expiresAt: key.expiresAt, models: key.allowedModels,
            dailyUsdLimit: key.dailyDollarLimit?.decimalString, requestsPerMinute: key.rateCaps.requestsPerMinute,
            tokensPerMinute: key.rateCaps.tokensPerMinute, maxParallelRequests: key.rateCaps.maxParallel, tags: key.tags)
        // The key is in this body only: nothing may keep it.
        let response = try AdminUserRoutes.secretJSON(created, status: .created)
        // Who made which key, for an audit; never the key itself.
        context.logger.notice("API key added", metadata: [
            "user": "\(user.name)", "label": "\(key.label)", "expires_at": "\(key.expiresAt.map { $0.formatted(.iso8601) } ?? "never")",
        ])
        return response
    }

    /// Changes a working key's terms, keeping its label and secret: raise a limit without handing out a new key.
    @Sendable func update(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try ownTokenUser(context)
        let raw = try context.parameters.require("label")
        let label = raw.removingPercentEncoding ?? raw
        let body = try await JSONObjectBody(request: request, context: context, allowEmpty: false)
        let changes = try KeyTermsBody(body: body, served: models, aliases: aliases, user: user).changes(now: Date())
        guard !changes.isEmpty else {
            throw APIError.invalid(
                "Name what to change: expires_in_days, models, daily_usd, requests_per_minute, tokens_per_minute, "
                    + "max_parallel_requests or tags (null removes one).")
        }
        let key = try await auditing(.keyChanged, label: label, of: user, request, context) {
            guard let key = try await store.updateAPIKey(userID: user.id, label: label, changes: changes) else {
                throw APIError(.notFound, code: "not_found", message: "You have no working key labelled '\(label)'.")
            }
            return key
        }
        // The new terms apply at once here; another instance picks them up within the cache's lifetime.
        tokens.forget(userID: user.id)
        context.logger.notice("API key changed", metadata: [
            "user": "\(user.name)", "label": "\(key.label)", "fields": "\(body.fields.keys.sorted().joined(separator: ","))",
        ])
        let listed = try await listing([key], userID: user.id)
        return UsageRoutes.json(String(decoding: try WireJSON.encoder.encode(listed[0]), as: UTF8.self))
    }

    @Sendable func revoke(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try ownTokenUser(context)
        let raw = try context.parameters.require("label")
        let label = raw.removingPercentEncoding ?? raw
        try await auditing(.keyRevoked, label: label, of: user, request, context) {
            guard try await store.revokeAPIKey(userID: user.id, label: label) else {
                throw APIError(.notFound, code: "not_found", message: "You have no working key labelled '\(label)'.")
            }
        }
        // Stops working at once here; another instance forgets it within the cache's lifetime.
        tokens.forget(userID: user.id)
        context.logger.notice("API key revoked", metadata: ["user": "\(user.name)", "label": "\(label)"])
        return Response(status: .noContent)
    }

    /// Runs `change` to `user`'s key labelled `label`, made by the user, and records in the audit log what it moved:
    /// the administrators see who made which key, with what terms (never the key itself).
    @discardableResult
    private func auditing<T>(
        _ action: AuditAction, label: String, of user: User, _ request: Request, _ context: SluiceRequestContext,
        _ change: () async throws -> T
    ) async throws -> T {
        let audit = AuditTrail(store: store, budgets: nil)
        return try await audit.tracking(
            action, on: AuditTarget(.key, user.name, label: label), by: .request(by: user, request, context, clients: clients),
            settings: { try await audit.key(userID: user.id, label: label) }, change)
    }

    /// The user, when the request was made with the user's own token; a key gets 403.
    private func ownTokenUser(_ context: SluiceRequestContext) throws -> User {
        let user = try context.requireUser()
        guard context.apiKey == nil else {
            throw APIError(
                .forbidden, code: "forbidden",
                message: "An API key cannot add or revoke keys. Sign in with your own token (the web app's) to manage keys.")
        }
        return user
    }
}

/// `{"keys": [{"label", "created_at", "revoked_at"?, "expires_at"?, "models"?, "daily_usd_limit"?, "spent_today_usd"?,
/// "requests_per_minute"?, "tokens_per_minute"?, "max_parallel_requests"?, "last_turn_at"?, "turns", "total_tokens", "cost_usd"}], "current_key"?}` (`current_key`: the label of the key the request was made with, if it was):
/// never a key's secret, which is shown once, when it is made.
struct WireKeyList: Encodable {
    struct Key: Encodable {
        let label: String
        let createdAt: Date
        let revokedAt: Date?
        let expiresAt: Date?
        let models: [String]?
        let dailyUsdLimit: String?
        /// With a daily limit: what the key's turns spent today (UTC), held ones included.
        let spentTodayUsd: String?
        let requestsPerMinute: Int?
        let tokensPerMinute: Int?
        let maxParallelRequests: Int?
        /// Beside each of its own rate limits, its use now: requests and tokens in the last minute, answers running.
        let requestsLastMinute: Int?
        let tokensLastMinute: Int?
        let runningRequests: Int?
        let lastTurnAt: Date?
        let turns: Int
        let totalTokens: Int
        let costUsd: String
        /// What each of its calls carries besides its own tags.
        let tags: [String]

        init(_ key: APIKey, usage: UsageBucket?, spentToday: USDAmount?, rates: RateLimits? = nil) {
            // Each figure beside its own limit: the hold counts only what a limit needs.
            requestsLastMinute = key.rateCaps.requestsPerMinute == nil ? nil : rates?.requests
            tokensLastMinute = key.rateCaps.tokensPerMinute == nil ? nil : rates?.tokens
            runningRequests = key.rateCaps.maxParallel == nil ? nil : rates?.running
            dailyUsdLimit = key.dailyDollarLimit?.decimalString
            spentTodayUsd = spentToday?.decimalString
            requestsPerMinute = key.rateCaps.requestsPerMinute
            tokensPerMinute = key.rateCaps.tokensPerMinute
            maxParallelRequests = key.rateCaps.maxParallel
            label = key.label
            createdAt = key.createdAt
            revokedAt = key.revokedAt
            expiresAt = key.expiresAt
            models = key.allowedModels
            tags = key.tags
            lastTurnAt = usage?.lastTurnAt
            turns = usage?.turns ?? 0
            totalTokens = usage?.totalTokens ?? 0
            costUsd = (usage?.cost ?? .zero).decimalString
        }
    }

    let keys: [Key]
    let currentKey: String?
}

/// `{"label", "key", "created_at", "expires_at"?, "models"?, "daily_usd_limit"?, "requests_per_minute"?,
/// "tokens_per_minute"?, "max_parallel_requests"?, "tags"}`: the new key, shown only in this response.
struct WireNewKey: Encodable {
    let label: String
    let key: String
    let createdAt: Date
    let expiresAt: Date?
    let models: [String]?
    let dailyUsdLimit: String?
    let requestsPerMinute: Int?
    let tokensPerMinute: Int?
    let maxParallelRequests: Int?
    let tags: [String]
}
