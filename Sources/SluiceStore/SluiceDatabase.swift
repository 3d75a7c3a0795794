import Foundation
import Logging
import SluiceCore

/// One database holding everything Sluice keeps: users, conversations, messages and the usage ledger.
public protocol SluiceDatabase: ConversationStore, BudgetStore, ResponseCacheStore, CircuitStore {
    /// Releases the database's connections; the store is unusable afterwards.
    func close() async throws
}

/// Opens the store named by `--db` / `SLUICE_DB`: a `postgres://` or `postgresql://` URL selects PostgreSQL
/// (several Sluice instances may share it); anything else is the path of an SQLite file.
public enum SluiceDatabases {
    public static func isPostgres(_ location: String) -> Bool {
        location.hasPrefix("postgres://") || location.hasPrefix("postgresql://")
    }

    public static func open(
        _ location: String, budgetPeriod: TimeInterval = 86_400, globalDailyLimit: USDAmount? = nil,
        logger: Logger = Logger(label: "sluice.store")
    ) async throws -> any SluiceDatabase {
        if isPostgres(location) {
            return try await PostgresStore.open(
                url: location, budgetPeriod: budgetPeriod, globalDailyLimit: globalDailyLimit, logger: logger)
        }
        return try await SQLiteStore.open(
            path: location, budgetPeriod: budgetPeriod, globalDailyLimit: globalDailyLimit, logger: logger)
    }

    /// `location` with any password replaced by `***`, for logs and the start-up banner.
    public static func redacted(_ location: String) -> String {
        guard isPostgres(location), var components = URLComponents(string: location), components.password != nil else {
            return location
        }
        components.password = "***"
        return components.string ?? "postgres://…"
    }
}
