import Foundation
import PostgresNIO
import SluiceCore

/// Circuit breakers' shared open states in PostgreSQL (schema step 31): what one instance learnt of an upstream,
/// every instance on the database acts on.
extension PostgresStore {
    public func shareOpenCircuit(name: String, until: Date, now: Date) async throws {
        let (nowMs, untilMs) = (StoredValues.milliseconds(now), StoredValues.milliseconds(until))
        try await transaction { connection in
            _ = try await connection.query("DELETE FROM circuit_cooldowns WHERE open_until <= \(nowMs)", logger: logger)
            _ = try await connection.query(
                """
                INSERT INTO circuit_cooldowns (name, open_until) VALUES (\(name), \(untilMs))
                ON CONFLICT (name) DO UPDATE SET open_until = GREATEST(circuit_cooldowns.open_until, excluded.open_until)
                """, logger: logger)
        }
    }

    public func openCircuits(now: Date) async throws -> [String: Date] {
        let rows = try await rows(
            "SELECT name, open_until FROM circuit_cooldowns WHERE open_until > \(StoredValues.milliseconds(now))")
        return Dictionary(rows.map { ($0.text("name"), StoredValues.date(milliseconds: $0.int("open_until"))) }, uniquingKeysWith: max)
    }
}
