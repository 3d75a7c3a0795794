import Foundation

/// Circuit breakers' open states, shared by every instance on one database, as LiteLLM shares its cooldowns through
/// Redis: when one instance's breaker opens on an upstream, the others stop calling it too instead of each spending
/// its own run of failures to learn the same thing.
public protocol CircuitStore: Sendable {
    /// Records that the circuit `name` is open until `until` (a later moment already recorded stays), and drops what
    /// has expired by `now`.
    func shareOpenCircuit(name: String, until: Date, now: Date) async throws
    /// The circuits open after `now`: each name with the moment it may be tried again.
    func openCircuits(now: Date) async throws -> [String: Date]
}
