import Foundation
import Hummingbird
import SluiceCore
import SluiceStore

/// A user's own labelled API keys (`APIKey`), as OpenAI's and Open WebUI's account pages manage them:
/// `GET /api/keys` lists them with what each has spent, `POST /api/keys {"label", "expires_in_days"?, "models"?,
/// "daily_usd"?, "requests_per_minute"?, "tokens_per_minute"?, "max_parallel_requests"?}` makes one and shows it once,
/// `DELETE /api/keys/{label}` revokes one. Only the user's own token (the web app's sign-in) may manage keys: a
/// key that leaked must not be able to mint more keys or revoke the owner's others.
struct KeyRoutes {
    let store: any ConversationStore
    let budgets: (any BudgetStore)?
    let tokens: TokenCache
    /// The served models, which a key may be limited to.
    let models: [String]
    /// How many working keys a user may have: enough for every application and teammate, not a flood.
    static let mostWorkingKeys = 100

    func register(on api: RouterGroup<SluiceRequestContext>) {
        api.get("keys", use: list)
        api.post("keys", use: add)
        api.delete("keys/:label", use: revoke)
    }

    @Sendable func list(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let keys = try await store.apiKeys(userID: user.id)
        let usage = try await budgets?.usageHistory(userID: user.id, since: .distantPast, groupedBy: .apiKey) ?? []
        let spent = Dictionary(usage.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        let current = context.apiKey.flatMap { use in keys.first { $0.id == use.id }?.label }
        // Today's spending against a key's own daily limit: settled and held, as the hold counts it.
        var today: [String: USDAmount] = [:]
        if let budgets {
            for key in keys where key.dailyDollarLimit != nil && key.revokedAt == nil {
                today[key.id] = try await budgets.apiKeySpentToday(userID: user.id, apiKeyID: key.id, now: Date())
            }
        }
        let listed = WireKeyList(
            keys: keys.map { WireKeyList.Key($0, usage: spent[$0.id], spentToday: today[$0.id]) }, currentKey: current)
        return UsageRoutes.json(String(decoding: try WireJSON.encoder.encode(listed), as: UTF8.self))
    }

    @Sendable func add(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try ownTokenUser(context)
        let body = try await JSONObjectBody(request: request, context: context, allowEmpty: false)
        guard let label = try body.optionalString("label", maxLength: 1_000).flatMap(APIKey.label) else {
            throw APIError.invalid("'label' must be \(APIKey.labelRule): what or who the key is for.")
        }
        let days = try body.optionalNumber("expires_in_days", in: 1...Double(APIKey.longestLifetimeDays))
        guard days.map({ $0 == $0.rounded() }) ?? true else {
            throw APIError.invalid("'expires_in_days' must be a whole number of days, from 1 to \(APIKey.longestLifetimeDays).")
        }
        let keyModels = try allowedModels(body, user: user)
        let daily = try dailyLimit(body)
        let caps = try rateCaps(body)
        let now = Date()
        let working = try await store.apiKeys(userID: user.id).filter { $0.works(at: now) }
        guard working.count < Self.mostWorkingKeys else {
            throw APIError(
                .conflict, code: "too_many_keys",
                message: "You have \(working.count) working keys, the most a user may have. Revoke one you no longer use first.")
        }
        let token = AccessToken.generate()
        let key: APIKey
        do {
            key = try await store.addAPIKey(
                userID: user.id, label: label, tokenHash: AccessToken.hash(token),
                terms: .init(
                    expiresAt: days.map { Date().addingTimeInterval($0 * 86_400) }, allowedModels: keyModels, dailyDollarLimit: daily,
                    rateCaps: caps))
        } catch StoreError.conflict {
            throw APIError(
                .conflict, code: "label_taken",
                message: "You already have a key labelled '\(label)' (a revoked key keeps its label). Pick another label.")
        }
        let created = WireNewKey(
            label: key.label, key: token, createdAt: key.createdAt, expiresAt: key.expiresAt, models: key.allowedModels,
            dailyUsdLimit: key.dailyDollarLimit?.decimalString, requestsPerMinute: key.rateCaps.requestsPerMinute,
            tokensPerMinute: key.rateCaps.tokensPerMinute, maxParallelRequests: key.rateCaps.maxParallel)
        var response = UsageRoutes.json(String(decoding: try WireJSON.encoder.encode(created), as: UTF8.self))
        response.status = .created
        // The key is in this body only: nothing may keep it.
        response.headers[.cacheControl] = "no-store"
        // Who made which key, for an audit; never the key itself.
        context.logger.notice("API key added", metadata: [
            "user": "\(user.name)", "label": "\(key.label)", "expires_at": "\(key.expiresAt.map { $0.formatted(.iso8601) } ?? "never")",
        ])
        return response
    }

    @Sendable func revoke(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try ownTokenUser(context)
        let raw = try context.parameters.require("label")
        let label = raw.removingPercentEncoding ?? raw
        guard try await store.revokeAPIKey(userID: user.id, label: label) else {
            throw APIError(.notFound, code: "not_found", message: "You have no working key labelled '\(label)'.")
        }
        // Stops working at once here; another instance forgets it within the cache's lifetime.
        tokens.forget(userID: user.id)
        context.logger.notice("API key revoked", metadata: ["user": "\(user.name)", "label": "\(label)"])
        return Response(status: .noContent)
    }

    /// `models`: the served models, among the user's, that the key is limited to; `nil` (absent or `null`) for all.
    private func allowedModels(_ body: JSONObjectBody, user: User) throws -> [String]? {
        let rule = "'models' must be a list of model names from GET /v1/models, or left out for all of your models."
        switch body.fields["models"] {
        case nil, .null?: return nil
        case .array(let items)?:
            var names: [String] = []
            for item in items {
                guard case .string(let name) = item else { throw APIError.invalid(rule) }
                guard models.contains(name), user.mayUse(name) else {
                    throw APIError.invalid("'\(name)' is not one of your models: GET /v1/models lists them.")
                }
                if !names.contains(name) { names.append(name) }
            }
            guard !names.isEmpty else { throw APIError.invalid(rule) }
            return names
        default: throw APIError.invalid(rule)
        }
    }

    /// `daily_usd`: what the key's turns may spend a day, in dollars (text or a number, e.g. "5" or 0.25); `nil` for none.
    private func dailyLimit(_ body: JSONObjectBody) throws -> USDAmount? {
        let text: String
        switch body.fields["daily_usd"] {
        case nil, .null?: return nil
        case .string(let value)?: text = value
        case .number(let value)?: text = value
        default: text = ""
        }
        guard let amount = USDAmount(text), amount.picodollars > 0 else {
            throw APIError.invalid("'daily_usd' must be an amount of dollars above 0, such as \"5\" or \"0.25\", or left out for no limit.")
        }
        return amount
    }

    /// `requests_per_minute`, `tokens_per_minute`, `max_parallel_requests`: the key's own rate limits, each a whole
    /// number from 1, or left out (or `null`) for only the user's.
    private func rateCaps(_ body: JSONObjectBody) throws -> RateCaps {
        func limit(_ name: String) throws -> Int? {
            let rule = "'\(name)' must be a whole number from 1 to \(RateCaps.highest), or left out for no limit of the key's own."
            switch body.fields[name] {
            case nil, .null?: return nil
            case .number(let text)?:
                guard let value = Int(text), (1...RateCaps.highest).contains(value) else { throw APIError.invalid(rule) }
                return value
            default: throw APIError.invalid(rule)
            }
        }
        return RateCaps(
            requestsPerMinute: try limit("requests_per_minute"), tokensPerMinute: try limit("tokens_per_minute"),
            maxParallel: try limit("max_parallel_requests"))
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
        let lastTurnAt: Date?
        let turns: Int
        let totalTokens: Int
        let costUsd: String

        init(_ key: APIKey, usage: UsageBucket?, spentToday: USDAmount?) {
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
/// "tokens_per_minute"?, "max_parallel_requests"?}`: the new key, shown only in this response.
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
}
