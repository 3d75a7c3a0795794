import Foundation
import NIOSSL
import PostgresNIO

/// Reads a libpq-style URL into postgres-nio's client configuration:
/// `postgres://user:password@host:port/database?sslmode=disable|prefer|require&pool_max=N`.
/// Without `sslmode` TLS is preferred (used when the server offers it), as libpq does.
enum PostgresURL {
    struct ConnectError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    static func configuration(_ url: String) throws -> PostgresClient.Configuration {
        guard let components = URLComponents(string: url), let host = components.host, !host.isEmpty else {
            throw ConnectError("the database URL \(SluiceDatabases.redacted(url)) is not postgres://user:password@host:port/database")
        }
        let query = Dictionary(
            (components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        let tls: PostgresClient.Configuration.TLS
        switch query["sslmode"] ?? "prefer" {
        case "disable": tls = .disable
        case "allow", "prefer": tls = .prefer(.makeClientConfiguration())
        case "require", "verify-ca", "verify-full": tls = .require(.makeClientConfiguration())
        case let other: throw ConnectError("sslmode=\(other) in the database URL is not disable, prefer or require")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        var configuration = PostgresClient.Configuration(
            host: host, port: components.port ?? 5432, username: components.user?.removingPercentEncoding ?? "postgres",
            password: components.password?.removingPercentEncoding, database: database.isEmpty ? nil : database, tls: tls)
        // A turn's statements are prepared once per connection (`TurnStatement`); with PostgreSQL's default, each
        // execution still plans them again for its values until the fifth, and often after. Their plans do not depend
        // on the values (lookups by key), so the generic plan is made once and kept.
        configuration.options.additionalStartupParameters = [("plan_cache_mode", "force_generic_plan")]
        if let poolMax = query["pool_max"] {
            guard let size = Int(poolMax), size > 0 else {
                throw ConnectError("pool_max=\(poolMax) in the database URL is not a positive number")
            }
            configuration.options.maximumConnections = size
        }
        return configuration
    }
}
