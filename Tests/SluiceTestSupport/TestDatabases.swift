import Foundation
import Logging
import PostgresNIO
import SluiceCore
import SluiceStore

/// The databases a test can run against.
public enum StoreBackend: String, Sendable, CaseIterable, CustomStringConvertible {
    case sqlite
    case postgres

    public var description: String { rawValue }
}

/// Fresh, empty databases for tests: an SQLite file in a temporary folder, or a new database on the throwaway
/// PostgreSQL server the test script starts (`SLUICE_TEST_POSTGRES_URL`).
public enum TestDatabases {
    /// The PostgreSQL server's URL (its `postgres` database), when the test script started one.
    public static var postgresURL: String? {
        ProcessInfo.processInfo.environment["SLUICE_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Whether the test script promised a PostgreSQL server (`SLUICE_REQUIRE_POSTGRES=1`): then its absence fails
    /// the run instead of quietly testing SQLite alone.
    public static var postgresRequired: Bool { ProcessInfo.processInfo.environment["SLUICE_REQUIRE_POSTGRES"] == "1" }

    /// SQLite always; PostgreSQL when a server is available.
    public static var backends: [StoreBackend] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }

    /// The location (`--db` value) of a new, empty database.
    public static func makeLocation(_ backend: StoreBackend) async throws -> String {
        switch backend {
        case .sqlite:
            return FileManager.default.temporaryDirectory
                .appendingPathComponent("sluice-test-\(UUID().uuidString)/db.sqlite").path
        case .postgres:
            guard let serverURL = postgresURL, var components = URLComponents(string: serverURL) else {
                throw MissingServer()
            }
            let name = "sluice_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            let connection = try await PostgresConnection.connect(
                configuration: .init(
                    host: components.host ?? "127.0.0.1", port: components.port ?? 5432,
                    username: components.user ?? "sluice", password: components.password,
                    database: String(components.path.dropFirst()), tls: .disable),
                id: 1, logger: Logger(label: "sluice.test.postgres"))
            do {
                try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: Logger(label: "sluice.test.postgres"))
            } catch {
                try? await connection.close()
                throw error
            }
            try await connection.close()
            components.path = "/" + name
            return components.string!
        }
    }

    /// A new, empty, migrated database of `backend`.
    public static func makeStore(
        _ backend: StoreBackend, globalDailyLimit: USDAmount? = nil, logger: Logger = quietLogger
    ) async throws -> (store: any SluiceDatabase, location: String) {
        let location = try await makeLocation(backend)
        let store = try await SluiceDatabases.open(location, globalDailyLimit: globalDailyLimit, logger: logger)
        try await store.migrate()
        return (store, location)
    }

    /// Warnings and worse only: the pool's connection chatter at shutdown is not news in a test.
    public static var quietLogger: Logger {
        var logger = Logger(label: "sluice.test")
        logger.logLevel = .warning
        return logger
    }

    public struct MissingServer: Error, CustomStringConvertible {
        public var description: String {
            "no PostgreSQL for the tests: run them with ./sluice.sh test, which starts one, or set SLUICE_TEST_POSTGRES_URL"
        }
    }
}
