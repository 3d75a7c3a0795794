import SluiceProviders

/// A loopback port nobody listens on (bound and released), for "upstream down" tests.
enum LlamaServerProcessPort {
    static func free() async throws -> Int { try await LlamaServerProcess.freePort(host: "127.0.0.1") }
}
