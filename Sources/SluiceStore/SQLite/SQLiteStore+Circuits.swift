import Foundation
import SluiceCore

/// Circuit breakers' shared open states in SQLite (schema step 31), for instances on one database file.
extension SQLiteStore {
    public func shareOpenCircuit(name: String, until: Date, now: Date) async throws {
        try await connection.transaction { db in
            try SQLiteConnection.run("DELETE FROM circuit_cooldowns WHERE open_until <= ?", [.integer(Self.milliseconds(now))], in: db)
            try SQLiteConnection.run(
                """
                INSERT INTO circuit_cooldowns (name, open_until) VALUES (?1, ?2)
                ON CONFLICT (name) DO UPDATE SET open_until = max(open_until, excluded.open_until)
                """,
                [.text(name), .integer(Self.milliseconds(until))], in: db)
        }
    }

    public func openCircuits(now: Date) async throws -> [String: Date] {
        let rows = try await connection.query(
            "SELECT name, open_until FROM circuit_cooldowns WHERE open_until > ?", [.integer(Self.milliseconds(now))])
        return Dictionary(rows.map { ($0.text("name"), StoredValues.date(milliseconds: $0.int("open_until"))) }, uniquingKeysWith: max)
    }
}
