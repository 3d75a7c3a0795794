import Foundation
import SluiceCore

/// The security log (`SecurityLogStore`, schema step 61) on SQLite.
extension SQLiteStore {
    public func recordSecurityEvent(_ event: SecurityEvent, forgettingBefore: Date) async throws {
        try await connection.transaction { db in
            try SQLiteConnection.run(
                "DELETE FROM security_events WHERE user_id = ? AND at < ?",
                [.text(event.userID), .integer(Self.milliseconds(forgettingBefore))], in: db)
            try SQLiteConnection.run(
                "INSERT INTO security_events (id, user_id, kind, at, user_agent, address, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [.text(event.id), .text(event.userID), .text(event.kind.rawValue), .integer(Self.milliseconds(event.at)),
                 Self.optional(event.origin.userAgent), Self.optional(event.origin.address), Self.optional(event.detail)],
                in: db)
        }
    }

    public func securityEvents(userID: String, limit: Int) async throws -> [SecurityEvent] {
        try await connection.query(
            "SELECT * FROM security_events WHERE user_id = ? ORDER BY at DESC, id DESC LIMIT ?", [.text(userID), .integer(limit)]
        ).map(StoredValues.securityEvent)
    }
}
