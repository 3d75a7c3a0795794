import Foundation
import PostgresNIO
import SluiceCore

/// The security log (`SecurityLogStore`, schema step 61) on PostgreSQL.
extension PostgresStore {
    public func recordSecurityEvent(_ event: SecurityEvent, forgettingBefore: Date) async throws {
        // One statement: the old events go as the new one comes.
        try await execute(
            """
            WITH forgotten AS (
                DELETE FROM security_events WHERE user_id = \(event.userID) AND at < \(StoredValues.milliseconds(forgettingBefore)))
            INSERT INTO security_events (id, user_id, kind, at, user_agent, address, detail)
            VALUES (\(event.id), \(event.userID), \(event.kind.rawValue), \(StoredValues.milliseconds(event.at)),
                    \(event.origin.userAgent), \(event.origin.address), \(event.detail))
            """, logger: logger)
    }

    public func securityEvents(userID: String, limit: Int) async throws -> [SecurityEvent] {
        try await rows(
            "SELECT * FROM security_events WHERE user_id = \(userID) ORDER BY at DESC, id DESC LIMIT \(limit)"
        ).map(StoredValues.securityEvent)
    }
}
