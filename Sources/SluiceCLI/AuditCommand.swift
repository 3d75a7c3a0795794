import ArgumentParser
import Foundation
import SluiceCore
import SluiceStore

/// `sluice audit`: the administrators' audit log (the Users page's Audit log, `GET /api/admin/audit-log`), newest
/// first, one change a line.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Print who made, changed or deleted which user, team or API key, newest first, with each setting before and after.")
    @Option(help: "Only what was done to or by this user or team.") var name: String?
    @Option(help: "Only changes to users, teams, keys or tag budgets (user, team, key or tag).") var kind: String?
    @Option(help: "At most this many entries.") var limit: Int = 50
    @OptionGroup var database: UserCommand.DatabaseOption

    func run() async throws {
        let targetKind = try kind.map { text in
            guard let kind = AuditTarget.Kind(rawValue: text) else { throw ValidationError("--kind must be user, team, key or tag") }
            return kind
        }
        guard limit > 0 else { throw ValidationError("--limit must be a positive number of entries") }
        let query = AuditQuery(name: name, kind: targetKind, limit: limit)
        let entries = try await database.withStore { try await $0.auditEntries(query) }
        print(["at", "by", "action", "target", "changes", "address"].joined(separator: "\t"))
        for entry in entries {
            print([
                entry.at.formatted(.iso8601), entry.actor.name, entry.action.rawValue, entry.target.label.map { "\(entry.target.name)/\($0)" } ?? entry.target.name,
                entry.changes.map(Self.text).joined(separator: "; "), entry.origin.address ?? "-",
            ].joined(separator: "\t"))
        }
    }

    /// "plan: free → pro", "daily_usd: none → 5".
    static func text(_ change: AuditChange) -> String {
        "\(change.field): \(change.from ?? "none") → \(change.to ?? "none")"
    }
}
