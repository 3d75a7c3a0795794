import Foundation
import Hummingbird
import SluiceCore

/// The administrators' audit log (`AuditTrail` writes it): `GET /api/admin/audit-log` → `{"entries": [{"id", "at",
/// "actor": {"name", "user_id"}, "action", "target": {"kind", "name", "label"?}, "changes": [{"field", "from", "to"}],
/// "user_agent", "address"}], "next_before"}`, the newest first, `?limit=` (1–200, 50 by default) at a time;
/// `?before=` the last entry's id reads the page after (`next_before` names it, `null` at the end); `?name=` only
/// what was done to or by that user or team; `?kind=user|team|key` only changes to those; `?format=csv` all of them
/// as a spreadsheet, one entry a row. Only an administrator may read it (the Users page's Audit log); anyone else,
/// and an API key, gets 403.
struct AuditLogRoutes {
    let store: any ConversationStore

    func register(on api: RouterGroup<SluiceRequestContext>) {
        api.get("admin/audit-log", use: list)
    }

    @Sendable func list(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        _ = try context.requireAdministrator(to: "read the audit log")
        let parameters = request.uri.queryParameters
        let limit = try parameters.get("limit").map { text in
            guard let value = Int(text), (1...200).contains(value) else {
                throw APIError.invalid("'limit' must be a whole number from 1 to 200.")
            }
            return value
        } ?? 50
        let kind = try parameters.get("kind").map { text in
            guard let kind = AuditTarget.Kind(rawValue: text) else {
                let kinds = AuditTarget.Kind.allCases.map(\.rawValue).joined(separator: ", ")
                throw APIError.invalid("'kind' must be one of \(kinds).")
            }
            return kind
        }
        let name = request.formValue("name")
            .map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
        let before = parameters.get("before").flatMap { $0.isEmpty ? nil : $0 }
        switch parameters.get("format") ?? "json" {
        case "json": break
        case "csv": return try await csv(name: name, kind: kind)
        default: throw APIError.invalid("'format' must be json or csv.")
        }
        // One more than asked: whether there is a page after this one.
        let entries = try await store.auditEntries(AuditQuery(name: name, kind: kind, before: before, limit: limit + 1))
        let page = Array(entries.prefix(limit))
        return try AdminUserRoutes.json(WireAuditLog(
            entries: page.map(WireAuditEntry.init), nextBefore: entries.count > limit ? page.last?.id : nil))
    }

    /// Every entry `name` and `kind` ask for, the newest first, as a spreadsheet's rows (`?format=csv`, the Users
    /// page's Download CSV): read a thousand at a time, up to `mostExported`.
    private func csv(name: String?, kind: AuditTarget.Kind?) async throws -> Response {
        var lines = ["at,actor,actor_user_id,action,target_kind,target,key_label,changes,address,user_agent"]
        var before: String?
        var exported = 0
        repeat {
            let page = try await store.auditEntries(AuditQuery(name: name, kind: kind, before: before, limit: 1_000))
            for entry in page {
                let changes = entry.changes.map { "\($0.field): \($0.from ?? "none") → \($0.to ?? "none")" }.joined(separator: "; ")
                lines.append([
                    ISO8601Milliseconds.string(entry.at), entry.actor.name, entry.actor.userID ?? "", entry.action.rawValue,
                    entry.target.kind.rawValue, entry.target.name, entry.target.label ?? "", changes,
                    entry.origin.address ?? "", entry.origin.userAgent ?? "",
                ].map(UsageCSV.field).joined(separator: ","))
            }
            exported += page.count
            before = page.count == 1_000 ? page.last?.id : nil
        } while before != nil && exported < Self.mostExported
        return UsageCSV.download(lines: lines, named: "sluice-audit-log.csv")
    }

    /// The most entries one download holds (400 days of a busy server's changes are far fewer).
    static let mostExported = 100_000
}

/// A page of the audit log; `next_before` is written as `null` at the end.
struct WireAuditLog: Encodable {
    let entries: [WireAuditEntry]
    @ExplicitNull var nextBefore: String?
}

/// An audit log's entry as the API shows it; a setting's `from` or `to` is `null` for none.
struct WireAuditEntry: Encodable {
    struct Actor: Encodable {
        let name: String
        let userId: String?
    }

    /// `label`: a key's, left out for a user or a team.
    struct Target: Encodable {
        let kind: String
        let name: String
        let label: String?
    }

    struct Change: Encodable {
        let field: String
        @ExplicitNull var from: String?
        @ExplicitNull var to: String?
    }

    let id: String
    let at: Date
    let actor: Actor
    let action: String
    let target: Target
    let changes: [Change]
    let userAgent: String?
    let address: String?

    init(_ entry: AuditEntry) {
        id = entry.id
        at = entry.at
        actor = Actor(name: entry.actor.name, userId: entry.actor.userID)
        action = entry.action.rawValue
        target = Target(kind: entry.target.kind.rawValue, name: entry.target.name, label: entry.target.label)
        changes = entry.changes.map { Change(field: $0.field, from: $0.from, to: $0.to) }
        userAgent = entry.origin.userAgent
        address = entry.origin.address
    }
}
