// swift-tools-version:6.1
import PackageDescription

/// Sluice: a self-hostable chat gateway. Targets are split by job; see docs/architecture.md.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "sluice",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sluice", targets: ["SluiceCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        // Domain types, stream events, the SSE wire format and the protocols at the seams.
        .target(
            name: "SluiceCore",
            dependencies: [],
            swiftSettings: swiftSettings
        ),
        // Token counting: a tiktoken-compatible byte-pair encoder (cl100k_base, o200k_base).
        .target(
            name: "SluiceTokenizer",
            dependencies: ["SluiceCore"],
            swiftSettings: swiftSettings
        ),
        // The prompt guard: normalisation, data-driven injection rules, output redaction.
        .target(
            name: "SluiceGuard",
            dependencies: [
                "SluiceCore",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [.copy("Resources/prompt-guard-rules.yml")],
            swiftSettings: swiftSettings
        ),
        // Child processes started with posix_spawn (llama-server, the benches' servers), not Foundation's Process.
        .target(
            name: "SluiceProcess",
            dependencies: [],
            swiftSettings: swiftSettings
        ),
        // Upstream model providers (OpenAI-compatible over AsyncHTTPClient).
        .target(
            name: "SluiceProviders",
            dependencies: [
                "SluiceCore",
                "SluiceProcess",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Persistence: SQLite via GRDB (embedded default) or PostgreSQL via postgres-nio; one set of
        // versioned migrations for both.
        .target(
            name: "SluiceStore",
            dependencies: [
                "SluiceCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // Signing in with an OpenID Connect provider (Keycloak, Entra ID, Google, Authentik…): discovery, the
        // authorization request with PKCE, the code exchange and the ID token's checks.
        .target(
            name: "SluiceOIDC",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The Hummingbird application: routes, auth, SSE writer, chat-turn orchestration.
        .target(
            name: "SluiceServer",
            dependencies: [
                "SluiceCore",
                "SluiceProviders",
                "SluiceStore",
                "SluiceGuard",
                "SluiceOIDC",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // A fault-injecting OpenAI-compatible upstream, a real HTTP server for tests and benchmarks; and an OpenID
        // Connect provider that signs its ID tokens with a key of its own, for the single sign-on's tests.
        .target(
            name: "SluiceSimulator",
            dependencies: [
                "SluiceCore",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The `sluice` command: serve, user, simulate.
        .executableTarget(
            name: "SluiceCLI",
            dependencies: [
                "SluiceCore",
                "SluiceServer",
                "SluiceOIDC",
                "SluiceStore",
                "SluiceSimulator",
                "SluiceProviders",
                "SluiceProcess",
                "SluiceTokenizer",
                "SluiceGuard",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Test helpers shared by the test targets: fresh SQLite and PostgreSQL databases, a seeded generator.
        .target(
            name: "SluiceTestSupport",
            dependencies: [
                "SluiceCore", "SluiceStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/SluiceTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceCoreTests",
            dependencies: ["SluiceCore", "SluiceTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceProcessTests",
            dependencies: ["SluiceProcess"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceProvidersTests",
            dependencies: [
                "SluiceCore", "SluiceProviders", "SluiceProcess",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceTokenizerTests",
            dependencies: ["SluiceCore", "SluiceTokenizer", "SluiceTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceGuardTests",
            dependencies: ["SluiceCore", "SluiceGuard", "SluiceTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceStoreTests",
            dependencies: [
                "SluiceCore", "SluiceStore", "SluiceTestSupport", .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceServerTests",
            dependencies: [
                "SluiceCore", "SluiceServer", "SluiceStore", "SluiceProviders", "SluiceSimulator", "SluiceTokenizer", "SluiceGuard",
                "SluiceTestSupport", "SluiceOIDC",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
