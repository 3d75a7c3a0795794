import Foundation
import SluiceCore

extension Migrations {
    /// Step 64: the administrators' audit log (`AuditLogStore`): who made, changed or deleted a user, a team or an API
    /// key, when (milliseconds), from where, and each setting's value before and after (`changes`, JSON). An entry
    /// names its actor and target as they were then and refers to no row, so it outlives them: a deleted user's
    /// entries stay. Read newest first — everything, or about one name (changed or changing) — and forgotten after
    /// `AuditTrail.retention`.
    static let auditLogStep = Step(
        version: 64,
        statements: [
            """
            CREATE TABLE audit_log (
                id TEXT PRIMARY KEY,
                at INTEGER NOT NULL,
                actor_id TEXT,
                actor_name TEXT NOT NULL,
                action TEXT NOT NULL,
                target_kind TEXT NOT NULL,
                target_name TEXT NOT NULL,
                target_label TEXT,
                changes TEXT NOT NULL,
                user_agent TEXT,
                address TEXT
            )
            """,
            "CREATE INDEX audit_log_by_time ON audit_log(at, id)",
            "CREATE INDEX audit_log_by_target ON audit_log(target_name, at, id)",
            "CREATE INDEX audit_log_by_actor ON audit_log(actor_name, at, id)",
        ])
}

extension StoredValues {
    /// `auditEntries`' query in both dialects, newest first: `name` (or NULL: every one) matches the target or the
    /// actor, `kind` (or NULL) the target's kind, `before` (or NULL) is the id of the last entry of the page before;
    /// each is written by the caller's placeholder, with `limit`.
    static func auditEntriesSQL(name: String, kind: String, before: String, limit: String) -> String {
        """
        SELECT * FROM audit_log a
        WHERE (\(name) IS NULL OR a.target_name = \(name) OR a.actor_name = \(name))
          AND (\(kind) IS NULL OR a.target_kind = \(kind))
          AND (\(before) IS NULL OR EXISTS (
              SELECT 1 FROM audit_log b WHERE b.id = \(before) AND (a.at < b.at OR (a.at = b.at AND a.id < b.id))))
        ORDER BY a.at DESC, a.id DESC LIMIT \(limit)
        """
    }

    /// An entry's settings as stored: a JSON array of `{"field", "from", "to"}`.
    static func auditChangesJSON(_ changes: [AuditChange]) -> String {
        (try? String(decoding: JSONEncoder().encode(changes), as: UTF8.self)) ?? "[]"
    }

    static func auditEntry(_ row: some StoredRow) -> AuditEntry {
        let changes = (try? JSONDecoder().decode([AuditChange].self, from: Data(row.text("changes").utf8))) ?? []
        return AuditEntry(
            id: row.text("id"), at: row.date("at"), actor: AuditActor(userID: row.string("actor_id"), name: row.text("actor_name")),
            action: AuditAction(rawValue: row.text("action")) ?? .unknown,
            target: AuditTarget(
                AuditTarget.Kind(rawValue: row.text("target_kind")) ?? .user, row.text("target_name"),
                label: row.string("target_label")),
            changes: changes, origin: SessionOrigin(userAgent: row.string("user_agent"), address: row.string("address")))
    }
}
