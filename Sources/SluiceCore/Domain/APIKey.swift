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

    /// `label` as a key is labelled with: trimmed, one line of 1 to 100 characters; `nil` when it is not one.
    public static func label(_ label: String) -> String? {
        let trimmed = label.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= 100, !trimmed.contains(where: \.isNewline) else { return nil }
        return trimmed
    }

    /// What `label(_:)` asks for, in words.
    public static let labelRule = "one line of 1 to 100 characters, e.g. ci or alice-laptop"

    /// The longest a key may be made to last, in days.
    public static let longestLifetimeDays = 3650

    public init(
        id: String, userID: String, label: String, createdAt: Date, revokedAt: Date? = nil, expiresAt: Date? = nil,
        allowedModels: [String]? = nil
    ) {
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

    public init(
        user: User, apiKeyID: String? = nil, apiKeyLabel: String? = nil, expiresAt: Date? = nil, keyModels: [String]? = nil
    ) {
        self.keyModels = keyModels
        self.expiresAt = expiresAt
        self.user = user
        self.apiKeyID = apiKeyID
        self.apiKeyLabel = apiKeyLabel
    }

    /// The user as this credential may act: with a key limited to some models, only those of them the user may use
    /// too (in the key's order, so the first is its default), so that every check of a user's models applies.
    public var actingUser: User {
        guard let keyModels else { return user }
        var acting = user
        acting.allowedModels = keyModels.filter(user.mayUse)
        return acting
    }
}
