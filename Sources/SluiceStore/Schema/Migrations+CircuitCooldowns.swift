import Foundation

extension Migrations {
    /// Step 31: circuit breakers' open states shared between instances (`CircuitStore`): one row per upstream (the
    /// breaker's name) with the moment, in milliseconds, until which no instance should call it.
    static let circuitCooldownsStep = Step(
        version: 31,
        statements: [
            """
            CREATE TABLE circuit_cooldowns (
                name TEXT PRIMARY KEY,
                open_until INTEGER NOT NULL
            )
            """,
        ])
}
