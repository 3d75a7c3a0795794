import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import SluiceSimulator

/// `sluice simulate`: runs the fault-injecting OpenAI-compatible upstream.
struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the fault-injecting OpenAI-compatible upstream simulator.",
        discussion: "Pick a fault per request with the header X-Sluice-Scenario or a model named sim-<scenario>. Scenarios: \(Scenario.allCases.map(\.rawValue).joined(separator: ", ")).")

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free one).") var port = 8081
    @Option(help: "Tokens per answer.") var tokens = 24
    @Option(help: "Milliseconds before each token.") var delayMs = 20
    @Option(help: "Milliseconds the stall scenarios stay silent.") var stallMs = 30_000
    @Flag(help: "Report prompt caching: the part of a prompt that repeats an earlier request's whole prompt is reported cached (OpenAI's cached_tokens, Anthropic's cache_read_input_tokens).")
    var promptCache = false
    @Flag(help: "Run an OpenID Connect provider instead, for trying single sign-on (serve --oidc-issuer http://<host>:<port>): it signs in at once the person the sign-in's login_hint names, or casey, and publishes its signing key.")
    var identityProvider = false
    @Option(help: "The identity provider's client ID.") var clientId = "sluice"
    @Option(help: "The identity provider's client secret.") var clientSecret = "simulated-client-secret"

    func run() async throws {
        if identityProvider {
            let host = self.host
            let provider = try IdentityProviderSimulator(clientID: clientId, clientSecret: clientSecret)
            let app = provider.application(host: host, port: port) { port in
                Console.line("Identity provider listening on http://\(host):\(port) (client \(clientId))")
            }
            let group = ServiceGroup(
                configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: Logger(label: "sluice.simulate")))
            try await group.run()
            return
        }
        let settings = SimulatorSettings(
            tokens: tokens, delay: .milliseconds(delayMs), stall: .milliseconds(stallMs), promptCache: promptCache)
        let host = self.host
        let app = Simulator.application(host: host, port: port, settings: settings) { port in
            Console.line("Simulator listening on http://\(host):\(port)/v1")
        }
        let group = ServiceGroup(
            configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: Logger(label: "sluice.simulate")))
        try await group.run()
    }
}
