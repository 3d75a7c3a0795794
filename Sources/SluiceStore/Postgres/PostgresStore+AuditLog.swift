import Foundation
import PostgresNIO
import SluiceCore

/// The administrators' audit log (`AuditLogStore`, schema step 64) on PostgreSQL.
extension PostgresStore {
    public func recordAudit(_ entry: AuditEntry, forgettingBefore: Date) async throws {
        // One statement: the old entries go as the new one comes.
        try await execute(
            """
            WITH forgotten AS (DELETE FROM audit_log WHERE at < \(StoredValues.milliseconds(forgettingBefore)))
            INSERT INTO audit_log (id, at, actor_id, actor_name, action, target_kind, target_name, target_label, changes, user_agent,
                                   address)
            VALUES (\(entry.id), \(StoredValues.milliseconds(entry.at)), \(entry.actor.userID), \(entry.actor.name),
                    \(entry.action.rawValue), \(entry.target.kind.rawValue), \(entry.target.name), \(entry.target.label),
                    \(StoredValues.auditChangesJSON(entry.changes)), \(entry.origin.userAgent), \(entry.origin.address))
            """, logger: logger)
    }

    public func auditEntries(_ query: AuditQuery) async throws -> [AuditEntry] {
        var sql = PostgresQuery(
            unsafeSQL: StoredValues.auditEntriesSQL(name: "$1::text", kind: "$2::text", before: "$3::text", limit: "$4"))
        sql.binds.append(query.name)
        sql.binds.append(query.kind?.rawValue)
        sql.binds.append(query.before)
        sql.binds.append(query.limit)
        return try await rows(sql).map(StoredValues.auditEntry)
    }
}
