import Foundation

/// One more bearer token of a user (`sluice user key add NAME LABEL`), labelled with who or what uses it: one per
/// application or teammate, each revoked on its own without breaking the others — OpenAI's project keys and
/// LiteLLM's virtual keys. A key acts as its user (same budget, limits and models). Only its hash is stored.
public struct APIKey: Sendable, Equatable {
    public var id: String
    public var userID: String
    public var label: String
    public var createdAt: Date
    /// When it stopped working; `nil` while it works.
    public var revokedAt: Date?
    /// When it stops working by itself; `nil`: never (LiteLLM's `duration`, GitHub's token expiry).
    public var expiresAt: Date?
    /// The only models it may use, among its user's (LiteLLM's key `models`); `nil`: all of the user's.
    public var allowedModels: [String]?
    /// What its turns may spend a day (UTC), within its user's budgets (LiteLLM's key `max_budget` with a
    /// `budget_duration` of a day); `nil`: no limit of its own.
    public var dailyDollarLimit: USDAmount?
    /// Its own limits per minute and of answers at once, within its user's (LiteLLM's key `rpm_limit`, `tpm_limit`,
    /// `max_parallel_requests`); `RateCaps.none`: only its user's.
    public var rateCaps: RateCaps
    /// Tags every call made with it carries besides its own (`UsageTags`; LiteLLM's key `tags`): usage per tag of an
    /// application or an environment without changing its code.
    public var tags: [String]

    /// Whether it has stopped working by itself at `now`.
    public func hasExpired(at now: Date) -> Bool { expiresAt.map { $0 <= now } ?? false }

    /// Neither revoked nor expired at `now`.
    public func works(at now: Date) -> Bool { revokedAt == nil && !hasExpired(at: now) }

    /// `label` as a key is labelled with: trimmed, one line of 1 to 100 characters; `nil` when it is not one.
    public static func label(_ label: String) -> String? {
        let trimmed = label.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= 100, !trimmed.contains(where: \.isNewline) else { return nil }
        return trimmed
    }

    /// What `label(_:)` asks for, in words.
    public static let labelRule = "one line of 1 to 100 characters, e.g. ci or alice-laptop"

    /// What a new key may be held to besides its label: all optional.
    public struct Terms: Sendable, Equatable {
        public var expiresAt: Date?
        public var allowedModels: [String]?
        public var dailyDollarLimit: USDAmount?
        public var rateCaps: RateCaps
        public var tags: [String]

        public init(
            expiresAt: Date? = nil, allowedModels: [String]? = nil, dailyDollarLimit: USDAmount? = nil,
            rateCaps: RateCaps = .none, tags: [String] = []
        ) {
            self.tags = tags
            self.rateCaps = rateCaps
            self.expiresAt = expiresAt
            self.allowedModels = allowedModels
            self.dailyDollarLimit = dailyDollarLimit
        }
    }

    /// Changes to a working key's terms (LiteLLM's `/key/update`): `nil` leaves a term as it is; a value inside, `nil`
    /// for none (`.some(nil)`), replaces it. The label and the secret stay.
    public struct Changes: Sendable, Equatable {
        public var expiresAt: Date??
        public var allowedModels: [String]??
        public var dailyDollarLimit: USDAmount??
        public var requestsPerMinute: Int??
        public var tokensPerMinute: Int??
        public var maxParallel: Int??
        /// The key's tags, all of them (empty: none).
        public var tags: [String]?

        public init(
            expiresAt: Date?? = nil, allowedModels: [String]?? = nil, dailyDollarLimit: USDAmount?? = nil,
            requestsPerMinute: Int?? = nil, tokensPerMinute: Int?? = nil, maxParallel: Int?? = nil, tags: [String]? = nil
        ) {
            self.tags = tags
            self.expiresAt = expiresAt
            self.allowedModels = allowedModels
            self.dailyDollarLimit = dailyDollarLimit
            self.requestsPerMinute = requestsPerMinute
            self.tokensPerMinute = tokensPerMinute
            self.maxParallel = maxParallel
        }

        /// Nothing to change.
        public var isEmpty: Bool {
            expiresAt == nil && allowedModels == nil && dailyDollarLimit == nil && requestsPerMinute == nil
                && tokensPerMinute == nil && maxParallel == nil && tags == nil
        }
    }

    /// The longest a key may be made to last, in days.
    public static let longestLifetimeDays = 3650

    public init(
        id: String, userID: String, label: String, createdAt: Date, revokedAt: Date? = nil, expiresAt: Date? = nil,
        allowedModels: [String]? = nil, dailyDollarLimit: USDAmount? = nil, rateCaps: RateCaps = .none, tags: [String] = []
    ) {
        self.tags = tags
        self.rateCaps = rateCaps
        self.dailyDollarLimit = dailyDollarLimit
        self.allowedModels = allowedModels
        self.expiresAt = expiresAt
        self.id = id
        self.userID = userID
        self.label = label
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

/// What a bearer token stands for: its user, and the labelled key it is when it is not the user's own token.
public struct Credential: Sendable, Equatable {
    public var user: User
    /// The key's `APIKey.id`; `nil` for the user's own token.
    public var apiKeyID: String?
    /// The key's label; `nil` for the user's own token.
    public var apiKeyLabel: String?
    /// When the key stops working (`APIKey.expiresAt`); a credential past it is refused with a message saying so.
    public var expiresAt: Date?
    /// The key's own limit on models (`APIKey.allowedModels`).
    public var keyModels: [String]?
    /// The key's own daily spending limit (`APIKey.dailyDollarLimit`).
    public var keyDailyDollarLimit: USDAmount?
    /// The key's own rate limits (`APIKey.rateCaps`).
    public var keyRateCaps: RateCaps
    /// The models the user's team allows (`Team.allowedModels`); `nil`: no team, or a team that allows every model.
    public var teamModels: [String]?
    /// The key's tags (`APIKey.tags`).
    public var keyTags: [String]

    public init(
        user: User, apiKeyID: String? = nil, apiKeyLabel: String? = nil, expiresAt: Date? = nil, keyModels: [String]? = nil,
        keyDailyDollarLimit: USDAmount? = nil, keyRateCaps: RateCaps = .none, teamModels: [String]? = nil, keyTags: [String] = []
    ) {
        self.keyTags = keyTags
        self.teamModels = teamModels
        self.keyRateCaps = keyRateCaps
        self.keyDailyDollarLimit = keyDailyDollarLimit
        self.keyModels = keyModels
        self.expiresAt = expiresAt
        self.user = user
        self.apiKeyID = apiKeyID
        self.apiKeyLabel = apiKeyLabel
    }

    /// Whether the key has stopped working by itself at `now` (the user's own token never does).
    public func hasExpired(at now: Date) -> Bool { expiresAt.map { $0 <= now } ?? false }

    /// The key a request was made with, as a turn needs it; `nil` for the user's own token.
    public var keyUse: KeyUse? {
        apiKeyID.map { KeyUse(id: $0, label: apiKeyLabel ?? "", dailyDollarLimit: keyDailyDollarLimit, rateCaps: keyRateCaps, tags: keyTags) }
    }

    /// The user as this credential may act: in a team limited to some models, only those of the user's own that the
    /// team allows (in the user's order, or the team's when the user may use every model); with a key limited to some
    /// models, only those of them the user may use so far (in the key's order, so the first is its default) — so
    /// that every check of a user's models applies.
    public var actingUser: User {
        var acting = user
        if let teamModels { acting.allowedModels = (user.allowedModels ?? teamModels).filter(teamModels.contains) }
        if let keyModels { acting.allowedModels = keyModels.filter(acting.mayUse) }
        return acting
    }
}

/// The labelled key a turn is made with: kept on its ledger row (`HoldRequest.apiKeyID`) and held to its own daily
/// limit (`HoldRequest.apiKeyDailyLimit`) and rate limits (`HoldRequest.apiKeyRateCaps`).
public struct KeyUse: Sendable, Equatable {
    public var id: String
    public var label: String
    public var dailyDollarLimit: USDAmount?
    public var rateCaps: RateCaps
    /// The key's own tags, which each of its calls carries (`APIKey.tags`).
    public var tags: [String]

    public init(id: String, label: String, dailyDollarLimit: USDAmount? = nil, rateCaps: RateCaps = .none, tags: [String] = []) {
        self.tags = tags
        self.rateCaps = rateCaps
        self.id = id
        self.label = label
        self.dailyDollarLimit = dailyDollarLimit
    }
}
