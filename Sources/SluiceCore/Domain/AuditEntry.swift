import Foundation

/// One change to who may do what on the server — a user, a team or an API key made, changed or deleted — as LiteLLM's
/// audit log and GitHub's organisation audit log record them: who did it, when, from where, and each setting's value
/// before and after. The users' own security log (`SecurityEvent`) tells a user about their sign-ins; this one tells
/// the administrators about each other's changes.
public struct AuditEntry: Sendable, Equatable {
    public let id: String
    public let at: Date
    /// Who made the change.
    public let actor: AuditActor
    public let action: AuditAction
    public let target: AuditTarget
    /// The settings the change moved, in a stable order; empty for an action that moves none (a new token issued).
    public let changes: [AuditChange]
    /// Where the request came from (`nil` fields: a command run on the server, or not sent).
    public let origin: SessionOrigin

    public init(
        id: String, at: Date, actor: AuditActor, action: AuditAction, target: AuditTarget, changes: [AuditChange],
        origin: SessionOrigin
    ) {
        self.id = id
        self.at = at
        self.actor = actor
        self.action = action
        self.target = target
        self.changes = changes
        self.origin = origin
    }
}

/// Who made a change: a user through the API (the web app is one), or a command run in the server's shell.
public struct AuditActor: Sendable, Equatable {
    /// The user's id; `nil` for a command on the server. Kept after the user is deleted, as their name is.
    public let userID: String?
    /// The user's name when they made the change, or `sluice user …`: the command that made it.
    public let name: String

    public init(userID: String?, name: String) {
        self.userID = userID
        self.name = name
    }

    /// A command run in the server's shell, named as typed (`sluice team create`).
    public static func command(_ command: String) -> AuditActor { AuditActor(userID: nil, name: command) }
}

/// What was changed: a user, a team, one of a user's API keys (named by its owner and its label), or a tag's budget.
public struct AuditTarget: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case user, team, key, tag
    }

    public let kind: Kind
    /// The user's or team's name; a key's owner's name; the tag.
    public let name: String
    /// A key's label; `nil` for a user or a team.
    public let label: String?

    public init(_ kind: Kind, _ name: String, label: String? = nil) {
        self.kind = kind
        self.name = name
        self.label = label
    }
}

/// What was done, stored by its raw value (`user.changed`); a kind a newer build wrote reads as `.unknown`.
public enum AuditAction: String, Sendable, CaseIterable {
    case userAdded = "user.added"
    /// An account made by its owner (`POST /api/sign-up`).
    case userSignedUp = "user.signed_up"
    case userChanged = "user.changed"
    case userTokenIssued = "user.token_issued"
    case userBudgetReset = "user.budget_reset"
    /// Browsers signed out: every one, or one (`changes` says how many).
    case userSignedOut = "user.signed_out"
    case userTwoStepOff = "user.two_step_off"
    case userDeleted = "user.deleted"
    case teamAdded = "team.added"
    case teamChanged = "team.changed"
    case teamDeleted = "team.deleted"
    case keyAdded = "key.added"
    case keyChanged = "key.changed"
    case keyRevoked = "key.revoked"
    /// A tag's budget made or its limits changed (`TagBudget`).
    case tagBudgetSet = "tag_budget.set"
    case tagBudgetRemoved = "tag_budget.removed"
    case unknown
}

/// One setting moved by a change: its value before and after, as text (`nil`: none, unset, or not there).
public struct AuditChange: Sendable, Equatable, Codable {
    public let field: String
    public let from: String?
    public let to: String?

    public init(_ field: String, from: String?, to: String?) {
        self.field = field
        self.from = from
        self.to = to
    }

    /// "browsers_signed_out: 2": sessions ended, which move no setting.
    public static func browsersSignedOut(_ count: Int) -> AuditChange {
        AuditChange("browsers_signed_out", from: nil, to: String(count))
    }

    /// The fields whose values differ between two snapshots of the same thing (fields in either, `before`'s order
    /// first): what a change did, whichever way it was asked for.
    public static func between(_ before: [(String, String?)], _ after: [(String, String?)]) -> [AuditChange] {
        let old = Dictionary(before.map { ($0.0, $0.1) }, uniquingKeysWith: { first, _ in first })
        let new = Dictionary(after.map { ($0.0, $0.1) }, uniquingKeysWith: { first, _ in first })
        var fields = before.map(\.0)
        fields += after.map(\.0).filter { old[$0] == nil }
        var seen = Set<String>()
        return fields.compactMap { field in
            guard seen.insert(field).inserted else { return nil }
            let from = old[field] ?? nil
            let to = new[field] ?? nil
            return from == to ? nil : AuditChange(field, from: from, to: to)
        }
    }
}

/// Which entries to read: the newest first, `limit` of them, older than the entry `before` (the last of the previous
/// page), about `name` (a user or team changed, or the one who changed something) and of `kind`, when given.
public struct AuditQuery: Sendable, Equatable {
    public var name: String?
    public var kind: AuditTarget.Kind?
    public var before: String?
    public var limit: Int

    public init(name: String? = nil, kind: AuditTarget.Kind? = nil, before: String? = nil, limit: Int = 50) {
        self.name = name
        self.kind = kind
        self.before = before
        self.limit = limit
    }
}
