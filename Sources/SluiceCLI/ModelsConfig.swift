import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import SluiceCore
import SluiceProviders
import SluiceServer
import Yams

/// `serve --models FILE`: the models Sluice offers, where each is served, and what to try when it fails.
///
/// ```yaml
/// models:
///   - name: gpt-4o-mini
///     kind: openai                 # openai (any Chat Completions server), anthropic, or local (the SmolLM2
///     base_url: https://api.openai.com/v1   #   Sluice runs with --local-model)
///     api_key_env: OPENAI_API_KEY  # the key is read from this environment variable, never from the file
///     context_window: 128000       # optional: overrides the public price list
///     input_per_million: "0.15"    # optional, USD
///     output_per_million: "0.60"
///     concurrency: 64              # optional: answers at once; more wait in a queue of `queue`
///     queue: 256
///     first_token_timeout_ms: 30000 # optional: this model's own timeouts
///     idle_timeout_ms: 30000
///     connect_timeout_ms: 10000
///     total_timeout_ms: 600000
///     fallbacks: [local]           # tried in order when this model fails before its first token
///   - name: local
///     kind: local
/// ```
struct ModelsConfig {
    struct Entry: Decodable {
        let name: String
        let kind: String
        let baseUrl: String?
        let apiKeyEnv: String?
        let contextWindow: Int?
        let inputPerMillion: String?
        let outputPerMillion: String?
        let concurrency: Int?
        let queue: Int?
        let fallbacks: [String]?
        let firstTokenTimeoutMs: Int?
        let idleTimeoutMs: Int?
        let connectTimeoutMs: Int?
        let totalTimeoutMs: Int?

        enum CodingKeys: String, CodingKey {
            case name, kind, concurrency, queue, fallbacks
            case firstTokenTimeoutMs = "first_token_timeout_ms"
            case idleTimeoutMs = "idle_timeout_ms"
            case connectTimeoutMs = "connect_timeout_ms"
            case totalTimeoutMs = "total_timeout_ms"
            case baseUrl = "base_url"
            case apiKeyEnv = "api_key_env"
            case contextWindow = "context_window"
            case inputPerMillion = "input_per_million"
            case outputPerMillion = "output_per_million"
        }
    }
    private struct File: Decodable { let models: [Entry] }

    let entries: [Entry]
    /// The key of each entry that names one, read from the environment.
    let keys: [String: String]

    var needsLocalModel: Bool { entries.contains { $0.kind == "local" } }

    static func load(path: String, environment: [String: String]) throws -> ModelsConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SettingError("models file (--models / SLUICE_MODELS): cannot read \(path)")
        }
        let file: File
        do {
            let decoder = YAMLDecoder()
            file = try decoder.decode(File.self, from: String(decoding: data, as: UTF8.self), userInfo: [:])
        } catch {
            throw SettingError("models file \(path) is not valid: \(error)")
        }
        let entries = file.models
        guard !entries.isEmpty else { throw SettingError("models file \(path) lists no models") }
        let names = entries.map(\.name)
        var keys: [String: String] = [:]
        for entry in entries {
            let where_ = "models file \(path), model '\(entry.name)'"
            guard names.filter({ $0 == entry.name }).count == 1 else { throw SettingError("\(where_): the name is used twice") }
            guard ["openai", "anthropic", "local"].contains(entry.kind) else {
                throw SettingError("\(where_): kind '\(entry.kind)' is not openai, anthropic or local")
            }
            if entry.kind == "openai" {
                guard let url = entry.baseUrl.flatMap(URL.init(string:)), ["http", "https"].contains(url.scheme ?? "") else {
                    throw SettingError("\(where_): base_url must be an http(s) URL such as https://api.openai.com/v1")
                }
            }
            if let variable = entry.apiKeyEnv {
                guard let key = environment[variable], !key.isEmpty else {
                    throw SettingError("\(where_): the environment variable \(variable) (api_key_env) is not set")
                }
                keys[entry.name] = key
            }
            let timeouts = [entry.firstTokenTimeoutMs, entry.idleTimeoutMs, entry.connectTimeoutMs, entry.totalTimeoutMs]
            for timeout in timeouts.compactMap({ $0 }) where timeout <= 0 {
                throw SettingError("\(where_): timeouts are milliseconds above 0, not \(timeout)")
            }
            for fallback in entry.fallbacks ?? [] where !names.contains(fallback) {
                throw SettingError("\(where_): fallback '\(fallback)' is not a configured model")
            }
            if entry.inputPerMillion != nil || entry.outputPerMillion != nil {
                guard ModelPrice(inputPerMillion: entry.inputPerMillion ?? "0", outputPerMillion: entry.outputPerMillion ?? "0") != nil else {
                    throw SettingError("\(where_): prices must be decimal USD per million tokens, e.g. \"2.50\"")
                }
            }
        }
        return ModelsConfig(entries: entries, keys: keys)
    }

    /// Each model's provider behind its own breaker and queue, and the HTTP clients made for models with a
    /// connect timeout of their own (the caller shuts them down with the shared one).
    func routes(
        httpClient shared: HTTPClient, localURL: String?, resilience: Resilience, logger: Logger
    ) -> (routes: [String: ModelRouter.Route], ownClients: [HTTPClient]) {
        var routes: [String: ModelRouter.Route] = [:]
        var ownClients: [HTTPClient] = []
        for entry in entries {
            let key = keys[entry.name]
            // The connect timeout is a setting of the client, not of a request: such a model gets its own.
            let httpClient = entry.connectTimeoutMs.map { UpstreamHTTPClient.make(connectTimeout: .milliseconds(Int64($0))) } ?? shared
            if httpClient !== shared { ownClients.append(httpClient) }
            let base: any ChatProvider
            let url: String
            switch entry.kind {
            case "anthropic":
                url = entry.baseUrl ?? "https://api.anthropic.com/v1"
                base = AnthropicProvider(baseURL: url, apiKey: key, httpClient: httpClient, logger: logger)
            case "local":
                url = localURL ?? ""
                base = OpenAICompatibleProvider(baseURL: url, apiKey: nil, httpClient: httpClient, logger: logger)
            default:
                url = entry.baseUrl ?? ""
                base = OpenAICompatibleProvider(baseURL: url, apiKey: key, httpClient: httpClient, logger: logger)
            }
            let local = entry.kind == "local"
            let (provider, limiter) = resilience.wrap(
                base, name: entry.name, concurrency: entry.concurrency ?? (local ? 4 : 64), queue: entry.queue ?? (local ? 64 : 256))
            routes[entry.name] = ModelRouter.Route(provider: provider, fallbacks: entry.fallbacks ?? [], limiter: limiter)
        }
        return (routes, ownClients)
    }

    /// Each model's own timeouts, for `TurnSettings.perModel`.
    var timeouts: [String: TurnSettings.ModelTimeouts] {
        var timeouts: [String: TurnSettings.ModelTimeouts] = [:]
        for entry in entries where entry.firstTokenTimeoutMs != nil || entry.idleTimeoutMs != nil || entry.totalTimeoutMs != nil {
            timeouts[entry.name] = .init(
                firstToken: entry.firstTokenTimeoutMs.map { .milliseconds($0) }, idle: entry.idleTimeoutMs.map { .milliseconds($0) },
                total: entry.totalTimeoutMs.map { .milliseconds($0) })
        }
        return timeouts
    }

    /// Prices and windows from the file win over the public list; local models are free, with one slot's window.
    func apply(to catalog: inout ModelCatalog, localContextWindow: Int?) {
        for entry in entries {
            if entry.kind == "local" {
                catalog.setPrice(entry.name, ModelPrice(inputPerMillion: "0", outputPerMillion: "0")!)
                if let localContextWindow { catalog.setContextWindow(entry.name, localContextWindow) }
            }
            if let window = entry.contextWindow { catalog.setContextWindow(entry.name, window) }
            if entry.inputPerMillion != nil || entry.outputPerMillion != nil,
                let price = ModelPrice(inputPerMillion: entry.inputPerMillion ?? "0", outputPerMillion: entry.outputPerMillion ?? "0")
            {
                catalog.setPrice(entry.name, price)
            }
        }
    }
}

/// Puts a provider behind a circuit breaker (reported as `sluice_circuit_state`) and a bounded queue
/// (`sluice_queue_waiting`).
struct Resilience {
    let breakerFailures: Int
    let breakerCooldown: Duration
    let metrics: SluiceMetrics
    let logger: Logger

    func wrap(_ base: any ChatProvider, name: String, concurrency: Int, queue: Int) -> (any ChatProvider, ConcurrencyLimiter) {
        let metrics = self.metrics
        let logger = self.logger
        let guarded: any ChatProvider = breakerFailures == 0
            ? base
            : CircuitBreakingProvider(
                base,
                breaker: CircuitBreaker(
                    name: name, policy: CircuitBreakerPolicy(consecutiveFailures: breakerFailures, cooldown: breakerCooldown),
                    onChange: { state in
                        metrics.setCircuitState(upstream: name, state: state.rawValue)
                        logger.log(level: state == .open ? .error : .notice, "an upstream's circuit breaker changed", metadata: [
                            "upstream": "\(name)", "state": "\(state)",
                        ])
                    }))
        let limiter = ConcurrencyLimiter(
            name: name, maxConcurrent: concurrency, queueCapacity: queue,
            onDepth: { metrics.setQueueWaiting(upstream: name, count: $0) })
        return (QueuedProvider(guarded, limiter: limiter), limiter)
    }
}
