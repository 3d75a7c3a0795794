import Foundation
import HTTPTypes
import Hummingbird
import SluiceCore
import SluiceStore
import Synchronization

/// Resolves `Authorization: Bearer <token>` (or `x-api-key: <token>`, as Anthropic's SDKs send it) — a user's own
/// token, a session from signing in with a password, or an API key — to a user, or answers 401.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = SluiceRequestContext
    static let apiKeyHeader = HTTPField.Name("x-api-key")!
    let store: any ConversationStore
    let cache: TokenCache
    /// Writes down when sessions were last used.
    let activity: SessionActivity

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let (user, apiKey) = try await signIn(request)
        var context = context
        // A key limited to some models acts as its user with only those.
        context.user = user
        context.apiKey = apiKey
        return try await next(request, context)
    }

    /// The request's user and key, or 401. Out of line, and the store read out of line again: `handle`'s frame is on
    /// the connection's task while the route runs, and a task keeps its deepest frames until it ends (`inChildTask`).
    @inline(never)
    private func signIn(_ request: Request) async throws -> (User, KeyUse?) {
        let hash = AccessToken.hash(try Self.token(of: request))
        if let cached = cache.credential(tokenHash: hash, now: .now) { return try Self.accept(cached) }
        return try Self.accept(try await stored(hash))
    }

    /// The token a request carries, or 401.
    static func token(of request: Request) throws -> String {
        let token: String
        if let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") {
            token = header.dropFirst("bearer ".count).trimmingCharacters(in: .whitespaces)
        } else if let key = request.headers[Self.apiKeyHeader] {
            // Anthropic's SDKs send the key as `x-api-key`.
            token = key.trimmingCharacters(in: .whitespaces)
        } else {
            throw APIError.unauthorized
        }
        guard !token.isEmpty else { throw APIError.unauthorized }
        return token
    }

    /// The credential of a token the cache does not know, from the store (then cached), or 401.
    @inline(never)
    private func stored(_ hash: String) async throws -> Credential {
        let now = ContinuousClock.now
        guard let credential = try await store.credential(tokenHash: hash) else { throw APIError.unauthorized }
        cache.remember(credential, tokenHash: hash, now: now)
        // A key is no session; a user's own token may be one (sessions act as their user's token).
        if credential.apiKeyID == nil { await activity.used(tokenHash: hash) }
        return credential
    }

    /// The user and key a credential signs in, unless its key has expired (checked on every request, cached or not,
    /// so that a key stops at its time, not up to the cache's lifetime later) or its user is suspended.
    @inline(never)
    private static func accept(_ credential: Credential) throws -> (User, KeyUse?) {
        if credential.hasExpired(at: Date()) {
            throw APIError(
                .unauthorized, code: "key_expired",
                message: "The API key '\(credential.apiKeyLabel ?? "")' expired at \(credential.expiresAt?.formatted(.iso8601) ?? ""). "
                    + "Make a new one on the web app's API keys page (or ask for one: 'sluice user key add').")
        }
        if let suspendedAt = credential.user.suspendedAt { throw suspended(credential.user, since: suspendedAt) }
        return (credential.actingUser, credential.keyUse)
    }

    /// The refusal of a suspended user's token, keys, sessions and sign-ins — or of one who waits for approval.
    static func suspended(_ user: User, since suspendedAt: Date) -> APIError {
        if user.isPending {
            return APIError(
                .forbidden, code: "account_pending",
                message: "Your account waits for an administrator's approval. Try again once they have approved it.")
        }
        return APIError(
            .forbidden, code: "account_suspended",
            message: "This account was suspended by an administrator on \(suspendedAt.formatted(.iso8601)), with all its keys. "
                + "Ask an administrator to restore it; everything in it is kept.")
    }
}

/// Credentials recently found by their token's hash, so that a busy client's requests do not each read the store
/// before anything else can happen (in a burst of turns that read queued behind the other turns' writes).
/// An entry lives `lifetime` (5 s): a token replaced with `sluice user token` — by another process, possibly
/// on another instance — stops working within that time, as a plan change shows within it. Unknown tokens are
/// not remembered, so a new token works at once. LiteLLM keeps its keys for 60 s by default.
final class TokenCache: Sendable {
    private struct Entry {
        let credential: Credential
        let expires: ContinuousClock.Instant
    }
    private let entries = Mutex<[String: Entry]>([:])
    let lifetime: Duration
    /// Past this many entries the cache starts over (a flood of distinct tokens cannot grow it without bound).
    let capacity: Int

    init(lifetime: Duration = .seconds(5), capacity: Int = 10_000) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    func credential(tokenHash: String, now: ContinuousClock.Instant) -> Credential? {
        entries.withLock { entries in
            guard let entry = entries[tokenHash] else { return nil }
            guard entry.expires > now else {
                entries[tokenHash] = nil
                return nil
            }
            return entry.credential
        }
    }

    /// Forgets every token of the user: a key revoked here stops working at once on this instance (on others, within
    /// `lifetime`).
    func forget(userID: String) {
        entries.withLock { entries in entries = entries.filter { $0.value.credential.user.id != userID } }
    }

    func remember(_ credential: Credential, tokenHash: String, now: ContinuousClock.Instant) {
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[tokenHash] = Entry(credential: credential, expires: now + lifetime)
        }
    }
}
