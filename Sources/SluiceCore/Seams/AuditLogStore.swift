import Foundation

/// The administrators' audit log (`AuditEntry`): written as changes happen, read newest first, kept for a while.
public protocol AuditLogStore: Sendable {
    /// Adds `entry` and forgets the entries from before `forgettingBefore`.
    func recordAudit(_ entry: AuditEntry, forgettingBefore: Date) async throws
    /// The entries `query` asks for, the newest first.
    func auditEntries(_ query: AuditQuery) async throws -> [AuditEntry]
}
