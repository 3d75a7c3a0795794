import Foundation
import SluiceCore

/// The administrators' audit log (`AuditLogStore`, schema step 64) on SQLite.
extension SQLiteStore {
    public func recordAudit(_ entry: AuditEntry, forgettingBefore: Date) async throws {
        try await connection.transaction { db in
            try SQLiteConnection.run(
                "DELETE FROM audit_log WHERE at < ?", [.integer(Self.milliseconds(forgettingBefore))], in: db)
            try SQLiteConnection.run(
                """
                INSERT INTO audit_log (id, at, actor_id, actor_name, action, target_kind, target_name, target_label, changes, user_agent,
                    address)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [.text(entry.id), .integer(Self.milliseconds(entry.at)), Self.optional(entry.actor.userID),
                 .text(entry.actor.name), .text(entry.action.rawValue), .text(entry.target.kind.rawValue),
                 .text(entry.target.name), Self.optional(entry.target.label), .text(StoredValues.auditChangesJSON(entry.changes)),
                 Self.optional(entry.origin.userAgent), Self.optional(entry.origin.address)],
                in: db)
        }
    }

    public func auditEntries(_ query: AuditQuery) async throws -> [AuditEntry] {
        try await connection.query(
            StoredValues.auditEntriesSQL(name: "?1", kind: "?2", before: "?3", limit: "?4"),
            [Self.optional(query.name), Self.optional(query.kind?.rawValue), Self.optional(query.before), .integer(query.limit)]
        ).map(StoredValues.auditEntry)
    }
}
