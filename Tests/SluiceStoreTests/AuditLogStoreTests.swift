import Foundation
import SluiceCore
import SluiceTestSupport
import Testing
@testable import SluiceStore

/// Schema step 64: the administrators' audit log.
@Suite("The audit log in the store")
struct AuditLogStoreTests {
    @Test("entries read back newest first with their changes, by name (changed or changing) and kind, a page at a time; old ones are forgotten",
          arguments: TestDatabases.backends)
    func auditLog(_ backend: StoreBackend) async throws {
        let (store, _) = try await TestDatabases.makeStore(backend)
        try await store.migrate()
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let ann = AuditActor(userID: "u-ann", name: "ann")
        let browser = SessionOrigin(userAgent: "Firefox", address: "192.0.2.7")
        func entry(
            _ action: AuditAction, _ target: AuditTarget, by actor: AuditActor = ann, minutes: Double, changes: [AuditChange] = []
        ) -> AuditEntry {
            AuditEntry(
                id: Identifier.make(), at: start.addingTimeInterval(minutes * 60), actor: actor, action: action, target: target,
                changes: changes, origin: actor.userID == nil ? SessionOrigin(userAgent: nil, address: nil) : browser)
        }
        let plan = entry(
            .userChanged, AuditTarget(.user, "ben"), minutes: 1,
            changes: [AuditChange("plan", from: "free", to: "pro"), AuditChange("daily_usd", from: nil, to: "5.25")])
        let entries = [
            entry(.userAdded, AuditTarget(.user, "ben"), minutes: 0, changes: [AuditChange("plan", from: nil, to: "free")]),
            plan,
            entry(.teamAdded, AuditTarget(.team, "research"), by: .command("sluice team create"), minutes: 2),
            entry(.keyAdded, AuditTarget(.key, "ben", label: "ci"), by: AuditActor(userID: "u-ben", name: "ben"), minutes: 3),
            entry(.userTokenIssued, AuditTarget(.user, "cy"), minutes: 4),
        ]
        for each in entries { try await store.recordAudit(each, forgettingBefore: .distantPast) }

        let all = try await store.auditEntries(AuditQuery(limit: 10))
        #expect(all.map(\.id) == entries.reversed().map(\.id))
        // Read back as written: the actor (a command has no id and no address), the target and each change's two sides.
        #expect(all.first { $0.id == plan.id } == plan)
        #expect(all[2].actor == .command("sluice team create") && all[2].origin.address == nil)
        #expect(all[1].target == AuditTarget(.key, "ben", label: "ci") && all[0].target.label == nil)

        // About a name: what was done to ben and what ben did; of one kind; a page after another.
        #expect(try await store.auditEntries(AuditQuery(name: "ben", limit: 10)).map(\.action) == [.keyAdded, .userChanged, .userAdded])
        #expect(try await store.auditEntries(AuditQuery(name: "ben", kind: .user, limit: 10)).map(\.action) == [.userChanged, .userAdded])
        #expect(try await store.auditEntries(AuditQuery(kind: .team, limit: 10)).map(\.target.name) == ["research"])
        let first = try await store.auditEntries(AuditQuery(limit: 2))
        let second = try await store.auditEntries(AuditQuery(before: first.last?.id, limit: 2))
        let third = try await store.auditEntries(AuditQuery(before: second.last?.id, limit: 2))
        #expect((first + second + third).map(\.id) == all.map(\.id))
        #expect(third.count == 1)

        // Two entries in the same millisecond are told apart by their ids, and paging neither skips nor repeats one.
        let same = [
            AuditEntry(id: "zz-1", at: start.addingTimeInterval(600), actor: ann, action: .teamChanged,
                       target: AuditTarget(.team, "ops"), changes: [], origin: browser),
            AuditEntry(id: "zz-2", at: start.addingTimeInterval(600), actor: ann, action: .teamDeleted,
                       target: AuditTarget(.team, "ops"), changes: [], origin: browser),
        ]
        for each in same { try await store.recordAudit(each, forgettingBefore: .distantPast) }
        let ops = try await store.auditEntries(AuditQuery(name: "ops", limit: 1))
        #expect(ops.map(\.id) == ["zz-2"])
        #expect(try await store.auditEntries(AuditQuery(name: "ops", before: "zz-2", limit: 5)).map(\.id) == ["zz-1"])

        // An action a newer build wrote reads as unknown rather than being dropped.
        _ = try await StoreTests.column("x", of: "UPDATE audit_log SET action = 'user.renamed' WHERE id = 'zz-1'", in: store)
        #expect(try await store.auditEntries(AuditQuery(name: "ops", limit: 5)).map(\.action) == [.teamDeleted, .unknown])

        // A new entry forgets those from before the given moment.
        try await store.recordAudit(
            entry(.teamDeleted, AuditTarget(.team, "research"), minutes: 20), forgettingBefore: start.addingTimeInterval(150))
        #expect(try await store.auditEntries(AuditQuery(limit: 20)).map(\.target.name) == ["research", "ops", "ops", "cy", "ben"])
        try await store.close()
    }

    @Test("what changed is the settings that differ, in the order they were read")
    func between() {
        let before: [(String, String?)] = [("plan", "free"), ("daily_usd", nil), ("team", "ops"), ("admin", "no")]
        let after: [(String, String?)] = [("plan", "pro"), ("daily_usd", "5"), ("team", "ops"), ("admin", "no"), ("two_step", "on")]
        #expect(AuditChange.between(before, after) == [
            AuditChange("plan", from: "free", to: "pro"), AuditChange("daily_usd", from: nil, to: "5"),
            AuditChange("two_step", from: nil, to: "on"),
        ])
        #expect(AuditChange.between(before, before).isEmpty)
        // Gone (a user deleted): every setting it had goes to none.
        #expect(AuditChange.between([("plan", "free"), ("models", nil)], []) == [AuditChange("plan", from: "free", to: nil)])
    }
}
