import Foundation

/// The security log of each user (`SecurityEvent`): written as things happen, read newest first, kept for a while.
public protocol SecurityLogStore: Sendable {
    /// Adds `event` to its user's log and forgets their events from before `forgettingBefore`.
    func recordSecurityEvent(_ event: SecurityEvent, forgettingBefore: Date) async throws
    /// The user's latest `limit` events, the newest first.
    func securityEvents(userID: String, limit: Int) async throws -> [SecurityEvent]
}
