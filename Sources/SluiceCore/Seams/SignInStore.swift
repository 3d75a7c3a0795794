import Foundation

/// Signing in with a name and password: the password's hash, and the sessions a sign-in starts. A session is a
/// bearer token like the user's own (`ConversationStore.credential(tokenHash:)` finds it until it expires), made per
/// browser so that one can end without the others.
public protocol SignInStore: Sendable {
    /// The bcrypt hash of the user's password; `nil` when they have none (only their token signs them in).
    func passwordHash(userID: String) async throws -> String?
    /// Sets the user's password hash, or with `nil` removes it.
    func setPasswordHash(userID: String, hash: String?) async throws
    /// Starts a session for the user whose token has this hash, good until `expiresAt`, signed in from `origin`;
    /// drops the user's expired ones.
    func startSession(userID: String, tokenHash: String, expiresAt: Date, origin: SessionOrigin) async throws
    /// The user's sessions that have not expired, the newest first.
    func sessions(userID: String) async throws -> [SignInSession]
    /// Writes down that the session whose token has this hash was used at `at`, and keeps it until `expiresAt` if that
    /// is later than its end (a session lasts from its last use); no session has the hash, nothing changes.
    func markSessionActive(tokenHash: String, at: Date, expiresAt: Date) async throws
    /// Ends the user's session `id`; `false` when they have no such session (another user's is not theirs to end).
    func endSession(id: String, userID: String) async throws -> Bool
    /// Ends the session whose token has this hash; `false` when there was none (a user's own token or a key).
    func endSession(tokenHash: String) async throws -> Bool
    /// Marks a user who made their own account as waiting for approval: suspended until an administrator restores them.
    func markPending(userID: String) async throws
    /// Ends every session of the user but the one whose token has `keeping`'s hash; how many ended.
    func endSessions(userID: String, keeping: String?) async throws -> Int

    /// The times of the attempts counted under `kind` and `key` (wrong passwords for a name, from an address; accounts
    /// made) since `since`, oldest first: what the sign-in's limits read, the same on every instance of the database.
    func attempts(kind: String, key: String, since: Date) async throws -> [Date]
    /// Counts an attempt under `kind` and `key` at `at`, and forgets the attempts of that kind before `forgettingBefore`.
    func recordAttempt(kind: String, key: String, at: Date, forgettingBefore: Date) async throws
    /// Forgets the attempts under `kind` and `key` (a right password clears its name's).
    func clearAttempts(kind: String, key: String) async throws
}
