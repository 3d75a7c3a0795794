import Foundation

/// Where a sign-in came from, as the user's list of signed-in browsers shows it (GitHub's "Sessions", Google's "Your
/// devices"): the browser's `User-Agent` and the client's address, each as the server saw it (`nil`: not sent).
public struct SessionOrigin: Sendable, Equatable {
    public let userAgent: String?
    public let address: String?

    public init(userAgent: String?, address: String?) {
        self.userAgent = userAgent
        self.address = address
    }
}

/// One browser signed in with a password: a session a sign-in started, until it is ended or expires.
public struct SignInSession: Sendable, Equatable {
    public let id: String
    /// The hash of the session's token: how a request's own session is told from the others (never sent anywhere).
    public let tokenHash: String
    public let origin: SessionOrigin
    public let createdAt: Date
    /// When it was last used, to within a few minutes (`SessionActivity`); its sign-in's time until then.
    public let lastActiveAt: Date
    public let expiresAt: Date

    public init(id: String, tokenHash: String, origin: SessionOrigin, createdAt: Date, lastActiveAt: Date, expiresAt: Date) {
        self.id = id
        self.tokenHash = tokenHash
        self.origin = origin
        self.createdAt = createdAt
        self.lastActiveAt = lastActiveAt
        self.expiresAt = expiresAt
    }
}
