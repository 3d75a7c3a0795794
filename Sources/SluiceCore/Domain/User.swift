import Foundation

/// A person who chats through Sluice. Authenticated by a bearer token whose SHA-256 hash is stored.
public struct User: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    public var plan: Plan
    public var createdAt: Date
    /// The models the user may chat with; `nil`: every model the server serves (`sluice user set-models`).
    public var allowedModels: [String]?
    /// Whether the user manages the other users (the web app's Users page, `/api/admin/users`): the first user is one,
    /// `sluice user admin NAME` names more.
    public var isAdmin: Bool
    /// When an administrator suspended the user: their token and keys are refused until restored; `nil`, not suspended.
    public var suspendedAt: Date?
    /// Whether the user has a password, and so may sign in with their name and it (`POST /api/sign-in`) as well as
    /// with their token. The password's hash never leaves the store.
    public var hasPassword: Bool
    /// Whether the user made their own account and waits for an administrator's approval (`suspendedAt` is set
    /// meanwhile); restoring the user approves them.
    public var isPending: Bool

    public init(
        id: String, name: String, plan: Plan, createdAt: Date, allowedModels: [String]? = nil, isAdmin: Bool = false,
        suspendedAt: Date? = nil, hasPassword: Bool = false, isPending: Bool = false
    ) {
        self.hasPassword = hasPassword
        self.isPending = isPending
        self.allowedModels = allowedModels
        self.isAdmin = isAdmin
        self.suspendedAt = suspendedAt
        self.id = id
        self.name = name
        self.plan = plan
        self.createdAt = createdAt
    }

    /// Whether the user may chat with `model`.
    public func mayUse(_ model: String) -> Bool { allowedModels?.contains(model) ?? true }

    /// The model a conversation or call that names none uses: the server's default, or when the user may not use
    /// it, the first of the user's models.
    public func defaultModel(_ serverDefault: String) -> String {
        mayUse(serverDefault) ? serverDefault : allowedModels?.first ?? serverDefault
    }
}

/// The usage plan of a user; #4 attaches token budgets to it.
public enum Plan: String, Sendable, Codable, CaseIterable {
    case free, pro, unlimited
}
