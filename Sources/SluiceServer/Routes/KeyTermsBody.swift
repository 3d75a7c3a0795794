import Foundation
import SluiceCore

/// A key's terms as `POST /api/keys` and `PATCH /api/keys/{label}` take them: `expires_in_days`, `models`,
/// `daily_usd`, `requests_per_minute`, `tokens_per_minute`, `max_parallel_requests`, `tags` (a list, or the text
/// `"ci,nightly"`; `[]` or `null` for none). A field left out leaves the
/// term as it is (none, for a new key); `null` removes it; a bad value is a 400 that names the field and its rule.
struct KeyTermsBody {
    let body: JSONObjectBody
    /// The served models, which a key may be limited to, among its user's.
    let served: [String]
    /// Other names of the served models: a key limited to an alias is limited to the alias's model.
    let aliases: ModelAliases
    let user: User

    /// The changes the body asks for.
    func changes(now: Date) throws -> APIKey.Changes {
        APIKey.Changes(
            expiresAt: try expiry(now: now), allowedModels: try allowedModels(), dailyDollarLimit: try dailyLimit(),
            requestsPerMinute: try rateLimit("requests_per_minute"), tokensPerMinute: try rateLimit("tokens_per_minute"),
            maxParallel: try rateLimit("max_parallel_requests"), tags: try tags())
    }

    /// `tags`: what every call made with the key carries (`UsageTags`); `null` or `[]` for none.
    private func tags() throws -> [String]? {
        let rule = "'tags' must be a list (or text with commas between them) of \(UsageTags.rule)."
        guard let value = try field("tags", { value -> [String] in
            switch value {
            case .string(let text): return UsageTags.split(text)
            case .array(let items):
                return try items.map { item in
                    guard case .string(let tag) = item else { throw APIError.invalid(rule) }
                    return tag
                }
            default: throw APIError.invalid(rule)
            }
        }) else { return nil }
        guard let tags = UsageTags.checked(value ?? []) else { throw APIError.invalid(rule) }
        return tags
    }

    /// A field's value: `nil` when left out, `.some(nil)` for `null`, else what `read` makes of it.
    private func field<Value>(_ name: String, _ read: (JSONValue) throws -> Value) throws -> Value?? {
        switch body.fields[name] {
        case nil: return nil
        case .null?: return .some(nil)
        case let value?: return .some(try read(value))
        }
    }

    /// `expires_in_days`: whole days from now until the key stops working by itself.
    private func expiry(now: Date) throws -> Date?? {
        let rule = "'expires_in_days' must be a whole number of days, from 1 to \(APIKey.longestLifetimeDays)."
        return try field("expires_in_days") { value in
            guard case .number(let text) = value, let days = Int(text), (1...APIKey.longestLifetimeDays).contains(days) else {
                throw APIError.invalid(rule)
            }
            return now.addingTimeInterval(Double(days) * 86_400)
        }
    }

    /// `models`: the served models, among the user's, that the key is limited to.
    private func allowedModels() throws -> [String]?? {
        let rule = "'models' must be a list of model names from GET /v1/models, or left out for all of your models."
        return try field("models") { value in
            guard case .array(let items) = value else { throw APIError.invalid(rule) }
            var names: [String] = []
            for item in items {
                guard case .string(let listed) = item else { throw APIError.invalid(rule) }
                let name = aliases.resolve(listed)
                guard served.contains(name), user.mayUse(name) else {
                    throw APIError.invalid("'\(listed)' is not one of your models: GET /v1/models lists them.")
                }
                if !names.contains(name) { names.append(name) }
            }
            guard !names.isEmpty else { throw APIError.invalid(rule) }
            return names
        }
    }

    /// `daily_usd`: what the key's turns may spend a day, in dollars (text or a number, e.g. "5" or 0.25).
    private func dailyLimit() throws -> USDAmount?? {
        try field("daily_usd") { try Self.dollars($0, field: "daily_usd", otherwise: "left out for no limit") }
    }

    /// An amount of dollars above 0 (text or a number, e.g. "5" or 0.25), or a 400 that names `field` and, after
    /// its rule, what `otherwise` the field may be.
    static func dollars(_ value: JSONValue, field: String, otherwise: String) throws -> USDAmount {
        let text: String
        switch value {
        case .string(let string): text = string
        case .number(let number): text = number
        default: text = ""
        }
        guard let amount = USDAmount(text), amount.picodollars > 0 else {
            throw APIError.invalid("'\(field)' must be an amount of dollars above 0, such as \"5\" or \"0.25\", or \(otherwise).")
        }
        return amount
    }

    /// One of the key's own rate limits: a whole number from 1.
    private func rateLimit(_ name: String) throws -> Int?? {
        try field(name) { value in
            guard case .number(let text) = value, let limit = Int(text), (1...RateCaps.highest).contains(limit) else {
                throw APIError.invalid(
                    "'\(name)' must be a whole number from 1 to \(RateCaps.highest), or left out for no limit of the key's own.")
            }
            return limit
        }
    }
}

extension APIKey.Terms {
    /// A new key's terms: what `changes` sets, nothing else.
    init(_ changes: APIKey.Changes) {
        self.init(
            expiresAt: changes.expiresAt ?? nil, allowedModels: changes.allowedModels ?? nil,
            dailyDollarLimit: changes.dailyDollarLimit ?? nil,
            rateCaps: RateCaps(
                requestsPerMinute: changes.requestsPerMinute ?? nil, tokensPerMinute: changes.tokensPerMinute ?? nil,
                maxParallel: changes.maxParallel ?? nil),
            tags: changes.tags ?? [])
    }
}
