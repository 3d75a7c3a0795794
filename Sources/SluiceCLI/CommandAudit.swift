import Foundation
import Logging
import SluiceCore
import SluiceServer
import SluiceStore

/// The audit log's entries of the commands run on the server (`sluice user|team|key …`), as the API's are written
/// (`AuditTrail`): the actor is the command as typed, with no address.
enum CommandAudit {
    /// Runs `change` to `target` (its settings read by `settings`, before and after), as `command`, and records what
    /// it moved.
    @discardableResult
    static func tracking<T>(
        _ action: AuditAction, on target: AuditTarget, command: String, in store: any SluiceDatabase,
        settings: (AuditTrail) async throws -> AuditTrail.Settings, _ change: () async throws -> T
    ) async throws -> T {
        let audit = AuditTrail(store: store, budgets: store)
        return try await audit.tracking(
            action, on: target, by: .command(command, logger: logger), settings: { try await settings(audit) }, change)
    }

    /// Runs `change` to the user named `name` as `sluice <group> <command>`, and records what it moved.
    @discardableResult
    static func user<T>(
        _ action: AuditAction, _ name: String, command: String, group: String = "user", in store: any SluiceDatabase,
        _ change: () async throws -> T
    ) async throws -> T {
        try await tracking(
            action, on: AuditTarget(.user, name), command: "sluice \(group) \(command)", in: store,
            settings: { try await $0.user(named: name) }, change)
    }

    /// Runs `change` to the team named `name` (`after`: its name afterwards, when renamed) as `sluice team <command>`,
    /// and records what it moved.
    @discardableResult
    static func team<T>(
        _ action: AuditAction, _ name: String, after: String? = nil, command: String, in store: any SluiceDatabase,
        _ change: () async throws -> T
    ) async throws -> T {
        let audit = AuditTrail(store: store, budgets: store)
        return try await audit.tracking(
            action, on: AuditTarget(.team, name), by: .command("sluice team \(command)", logger: logger),
            settings: { try await audit.team(named: name) },
            settingsAfter: { try await audit.team(named: after ?? name) }, change)
    }

    /// Runs `change` to `user`'s key labelled `label` as `sluice user key <command>`, and records what it moved.
    static func key<T>(
        _ action: AuditAction, label: String, of user: User, command: String, in store: any SluiceDatabase,
        _ change: () async throws -> T
    ) async throws -> T {
        try await tracking(
            action, on: AuditTarget(.key, user.name, label: label), command: "sluice user key \(command)", in: store,
            settings: { try await $0.key(userID: user.id, label: label) }, change)
    }

    /// Records `action` on `target` as `command`, with `changes` said outright.
    static func record(
        _ action: AuditAction, on target: AuditTarget, command: String, in store: any SluiceDatabase, changes: [AuditChange] = []
    ) async {
        await AuditTrail(store: store, budgets: store).record(
            action, on: target, by: .command(command, logger: logger), changes: changes)
    }

    private static let logger = Logger(label: "sluice.audit")
}
