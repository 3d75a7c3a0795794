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
///     api_key_header: api-key      # optional: the header the key goes in (Azure OpenAI); else Authorization: Bearer
///     headers: {X-Title: Chat}     # optional: sent on every request to it; "${NAME}" reads the environment
///                                  #   (see UpstreamHeaders)
///     context_window: 128000       # optional: overrides the public price list
///     vision: true                 # optional: whether it sees images (else the public list says; local: no)
///     reasoning: false             # optional: whether it takes a reasoning effort (else the public list says)
///     prefill: true                # optional: whether it continues a final assistant message (llama-server, Ollama;
///                                  #   anthropic and local: yes) — Continue then sends the partial answer as its start
///     continue_final_message: true # optional, vLLM: ask it to continue a final assistant message (implies prefill)
///     thinking_blocks: true        # optional, LiteLLM in front of Anthropic: send the loop's signed thinking back
///     input_per_million: "0.15"    # optional, USD
///     output_per_million: "0.60"
///     cached_input_per_million: "0.075"  # optional: prompt tokens read from the provider's prompt cache
///     cache_write_per_million: "0.1875"  #   and written to it (Anthropic); else priced as input
///     prompt_caching: false        # anthropic only: don't mark prompts for its prompt cache (on by default)
///     concurrency: 64              # optional: answers at once; more wait in a queue of `queue`
///     queue: 256
///     first_token_timeout_ms: 30000 # optional: this model's own timeouts
///     idle_timeout_ms: 30000
///     connect_timeout_ms: 10000
///     total_timeout_ms: 600000
///     fallbacks: [local]           # tried in order when this model fails before its first token
///     mask_personal_data: true     # optional: emails, phones, card numbers, IBANs, SSNs go to it as placeholders
///                                  #   (default: --mask-personal-data for openai and anthropic models, off for local)
///   - name: llama-3-8b
///     kind: openai
///     deployments:                 # replicas of one model: each call goes to the least busy one that is up
///       - base_url: http://gpu-1:8000/v1   # (instead of base_url; each may have its own api_key_env,
///       - base_url: http://gpu-2:8000/v1   #  concurrency and queue, else the model's)
///         concurrency: 16
///   - name: local
///     kind: local
/// aliases:                         # optional: names clients ask for, and the model each gets
///   gpt-4o: gpt-4o-mini            # listed by GET /v1/models beside the models
///   "claude-*": local              # '*' at the end: every name that begins so (never listed)
///   gpt-4: {model: local, hidden: true}   # works, but is not listed (LiteLLM's hidden alias)
/// ```
struct ModelsConfig {
    struct Entry: Decodable {
        let name: String
        let kind: String
        let baseUrl: String?
        let apiKeyEnv: String?
        let contextWindow: Int?
        /// Whether the model sees images (overrides the public list; a local model does not).
        let vision: Bool?
        /// Whether the model takes a reasoning effort (overrides the public list; the local SmolLM2 does not).
        let reasoning: Bool?
        /// Whether the upstream continues a final assistant message (anthropic and local: yes unless `false`).
        let prefill: Bool?
        /// vLLM's flag for continuing a final assistant message, sent with such a request.
        let continueFinalMessage: Bool?
        /// LiteLLM's `thinking_blocks` sent back in a function-calling loop (an upstream that is LiteLLM before Anthropic).
        let thinkingBlocks: Bool?
        let inputPerMillion: String?
        let outputPerMillion: String?
        /// Prompt tokens read from the provider's prompt cache, and written to it (else priced as input).
        let cachedInputPerMillion: String?
        let cacheWritePerMillion: String?
        /// `anthropic` only: mark prompts for Anthropic's prompt cache (on unless `false`).
        let promptCaching: Bool?
        let concurrency: Int?
        let queue: Int?
        let fallbacks: [String]?
        let firstTokenTimeoutMs: Int?
        let idleTimeoutMs: Int?
        let connectTimeoutMs: Int?
        let totalTimeoutMs: Int?
        /// Several servers of this model (`BalancedProvider`), instead of one `base_url`.
        let deployments: [Deployment]?
        /// The header the key goes in, and headers sent on every request (`UpstreamHeaders`).
        let apiKeyHeader: String?
        let headers: [String: String]?
        /// Whether personal details go to this model as placeholders (`PersonalDataMaskingProvider`); unset:
        /// `--mask-personal-data` decides, for hosted models only.
        let maskPersonalData: Bool?

        /// Whether this model's calls are masked, given `--mask-personal-data`.
        func masks(byDefault: Bool) -> Bool { maskPersonalData ?? (byDefault && kind != "local") }

        enum CodingKeys: String, CodingKey {
            case maskPersonalData = "mask_personal_data"
            case name, kind, concurrency, queue, fallbacks, deployments, vision, reasoning, headers, prefill
            case apiKeyHeader = "api_key_header"
            case continueFinalMessage = "continue_final_message"
            case thinkingBlocks = "thinking_blocks"
            case firstTokenTimeoutMs = "first_token_timeout_ms"
            case idleTimeoutMs = "idle_timeout_ms"
            case connectTimeoutMs = "connect_timeout_ms"
            case totalTimeoutMs = "total_timeout_ms"
            case baseUrl = "base_url"
            case apiKeyEnv = "api_key_env"
            case contextWindow = "context_window"
            case inputPerMillion = "input_per_million"
            case outputPerMillion = "output_per_million"
            case cachedInputPerMillion = "cached_input_per_million"
            case cacheWritePerMillion = "cache_write_per_million"
            case promptCaching = "prompt_caching"
        }

        /// The file's price for this model, when it names one; `.failure` for an amount that is not one.
        var price: Result<ModelPrice, SettingError>? {
            let named = [inputPerMillion, outputPerMillion, cachedInputPerMillion, cacheWritePerMillion]
            guard named.contains(where: { $0 != nil }) else { return nil }
            guard let price = ModelPrice(
                inputPerMillion: inputPerMillion ?? "0", outputPerMillion: outputPerMillion ?? "0",
                cachedInputPerMillion: cachedInputPerMillion, cacheWritePerMillion: cacheWritePerMillion)
            else { return .failure(SettingError("prices must be decimal USD per million tokens, e.g. \"2.50\"")) }
            return .success(price)
        }
    }
    /// One server of a model with `deployments`; what it leaves out, it takes from its model.
    struct Deployment: Decodable {
        let baseUrl: String
        let apiKeyEnv: String?
        let concurrency: Int?
        let queue: Int?
        let apiKeyHeader: String?
        let headers: [String: String]?

        enum CodingKeys: String, CodingKey {
            case concurrency, queue, headers
            case baseUrl = "base_url"
            case apiKeyEnv = "api_key_env"
            case apiKeyHeader = "api_key_header"
        }
    }
    private struct File: Decodable {
        let models: [Entry]
        let aliases: [String: Alias]?
    }
    /// An alias's model: its name, or `{model: NAME, hidden: true}` for one left out of the models' list.
    private struct Alias: Decodable {
        let model: String
        let hidden: Bool

        enum CodingKeys: String, CodingKey { case model, hidden }

        init(from decoder: any Decoder) throws {
            if let model = try? decoder.singleValueContainer().decode(String.self) {
                (self.model, hidden) = (model, false)
                return
            }
            let fields = try decoder.container(keyedBy: CodingKeys.self)
            model = try fields.decode(String.self, forKey: .model)
            hidden = try fields.decodeIfPresent(Bool.self, forKey: .hidden) ?? false
        }
    }

    let entries: [Entry]
    /// `aliases:` — other names for the models (`ModelAliases`), checked once the served models are known.
    var aliases: [String: String] = [:]
    /// The aliases marked `hidden: true`.
    var hiddenAliases: Set<String> = []
    /// The key of each entry that names one, read from the environment.
    let keys: [String: String]
    /// Each upstream's key header and headers, by model name (and `name#index` for a deployment of its own).
    var headers: [String: UpstreamHeaders] = [:]

    /// What answers must never show: the keys, and header values read from the environment.
    var secrets: [String] { Array(keys.values) + headers.values.flatMap(\.secrets) }

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
        var headers: [String: UpstreamHeaders] = [:]
        for entry in entries {
            let where_ = "models file \(path), model '\(entry.name)'"
            if entry.kind == "local", entry.apiKeyHeader != nil || entry.headers != nil {
                throw SettingError("\(where_): api_key_header and headers are for openai and anthropic models; Sluice runs the local one")
            }
            let own = try UpstreamHeaders(keyHeader: entry.apiKeyHeader, headers: entry.headers, where: where_, environment: environment)
            if own != UpstreamHeaders() { headers[entry.name] = own }
            for (index, deployment) in (entry.deployments ?? []).enumerated()
            where deployment.apiKeyHeader != nil || deployment.headers != nil {
                headers["\(entry.name)#\(index)"] = own.overridden(by: try UpstreamHeaders(
                    keyHeader: deployment.apiKeyHeader, headers: deployment.headers, where: "\(where_), deployment \(index + 1)",
                    environment: environment))
            }
            guard names.filter({ $0 == entry.name }).count == 1 else { throw SettingError("\(where_): the name is used twice") }
            guard ["openai", "anthropic", "local"].contains(entry.kind) else {
                throw SettingError("\(where_): kind '\(entry.kind)' is not openai, anthropic or local")
            }
            if let deployments = entry.deployments {
                try checkDeployments(deployments, of: entry, where: where_, environment: environment, keys: &keys)
            } else if entry.kind == "openai" {
                guard Self.isHTTPURL(entry.baseUrl) else {
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
            if case .failure(let problem) = entry.price { throw SettingError("\(where_): \(problem.description)") }
            if entry.promptCaching != nil && entry.kind != "anthropic" {
                throw SettingError("\(where_): prompt_caching is for kind anthropic; OpenAI-compatible servers cache prompts by themselves")
            }
        }
        let aliases = file.aliases ?? [:]
        return ModelsConfig(
            entries: entries, aliases: aliases.mapValues(\.model), hiddenAliases: Set(aliases.filter(\.value.hidden).keys),
            keys: keys, headers: headers)
    }

    static func isHTTPURL(_ text: String?) -> Bool {
        guard let url = text.flatMap(URL.init(string:)) else { return false }
        return ["http", "https"].contains(url.scheme ?? "") && url.host != nil
    }

    /// `deployments`' rules: an openai or anthropic model, no `base_url` of its own, each an http(s) URL listed once
    /// whose key (its own `api_key_env`) is set; the keys go into `keys` as `name#index`.
    private static func checkDeployments(
        _ deployments: [Deployment], of entry: Entry, where where_: String, environment: [String: String],
        keys: inout [String: String]
    ) throws {
        guard entry.kind == "openai" || entry.kind == "anthropic" else {
            throw SettingError("\(where_): deployments are for openai and anthropic models, not \(entry.kind)")
        }
        guard entry.baseUrl == nil else {
            throw SettingError("\(where_): give base_url or deployments, not both (list every server under deployments)")
        }
        guard !deployments.isEmpty else { throw SettingError("\(where_): deployments lists no server") }
        for (index, deployment) in deployments.enumerated() {
            guard isHTTPURL(deployment.baseUrl) else {
                throw SettingError("\(where_), deployment \(index + 1): base_url must be an http(s) URL such as http://gpu-1:8000/v1")
            }
            guard deployments.filter({ $0.baseUrl == deployment.baseUrl }).count == 1 else {
                throw SettingError("\(where_): deployment \(deployment.baseUrl) is listed twice")
            }
            if let variable = deployment.apiKeyEnv {
                guard let key = environment[variable], !key.isEmpty else {
                    throw SettingError("\(where_), deployment \(index + 1): the environment variable \(variable) (api_key_env) is not set")
                }
                keys["\(entry.name)#\(index)"] = key
            }
            for limit in [deployment.concurrency, deployment.queue].compactMap({ $0 }) where limit < 0 {
                throw SettingError("\(where_), deployment \(index + 1): concurrency and queue cannot be negative")
            }
        }
    }

    /// Each model's provider behind its own breaker and queue, and the HTTP clients made for models with a
    /// connect timeout of their own (the caller shuts them down with the shared one).
    func routes(
        httpClient shared: HTTPClient, localURL: String?, resilience: Resilience, maskPersonalData: Bool,
        masking: (any ChatProvider) -> any ChatProvider, logger: Logger
    ) -> (routes: [String: ModelRouter.Route], ownClients: [HTTPClient]) {
        var routes: [String: ModelRouter.Route] = [:]
        var ownClients: [HTTPClient] = []
        for entry in entries {
            let key = keys[entry.name]
            // The connect timeout is a setting of the client, not of a request: such a model gets its own.
            let httpClient = entry.connectTimeoutMs.map { UpstreamHTTPClient.make(connectTimeout: .milliseconds(Int64($0))) } ?? shared
            if httpClient !== shared { ownClients.append(httpClient) }
            if let deployments = entry.deployments {
                let members = deployments.enumerated().map { index, deployment in
                    let key = keys["\(entry.name)#\(index)"] ?? keys[entry.name]
                    let sent = headers["\(entry.name)#\(index)"] ?? headers[entry.name] ?? UpstreamHeaders()
                    let upstream: any ChatProvider = entry.kind == "anthropic"
                        ? AnthropicProvider(
                            baseURL: deployment.baseUrl, apiKey: key, httpClient: httpClient,
                            promptCaching: entry.promptCaching ?? true, keyHeader: sent.keyHeader, headers: sent.headers, logger: logger)
                        : OpenAICompatibleProvider(
                            baseURL: deployment.baseUrl, apiKey: key, httpClient: httpClient, keyHeader: sent.keyHeader,
                            headers: sent.headers, continueFinalMessage: entry.continueFinalMessage ?? false,
                            sendsThinkingBlocks: entry.thinkingBlocks ?? false, logger: logger)
                    let host = URL(string: deployment.baseUrl).map { "\($0.host ?? "")\($0.port.map { ":\($0)" } ?? "")" } ?? deployment.baseUrl
                    return resilience.deployment(
                        upstream, name: "\(entry.name)@\(host)", concurrency: deployment.concurrency ?? entry.concurrency ?? 64,
                        queue: deployment.queue ?? entry.queue ?? 256)
                }
                // No queue of its own to refuse from before a turn starts: each deployment's queue refuses when full.
                let balanced = BalancedProvider(members)
                routes[entry.name] = ModelRouter.Route(
                    provider: entry.masks(byDefault: maskPersonalData) ? masking(balanced) : balanced, fallbacks: entry.fallbacks ?? [])
                continue
            }
            let base: any ChatProvider
            let url: String
            let sent = headers[entry.name] ?? UpstreamHeaders()
            switch entry.kind {
            case "anthropic":
                url = entry.baseUrl ?? "https://api.anthropic.com/v1"
                base = AnthropicProvider(
                    baseURL: url, apiKey: key, httpClient: httpClient, promptCaching: entry.promptCaching ?? true,
                    keyHeader: sent.keyHeader, headers: sent.headers, logger: logger)
            case "local":
                url = localURL ?? ""
                base = OpenAICompatibleProvider(baseURL: url, apiKey: nil, httpClient: httpClient, logger: logger)
            default:
                url = entry.baseUrl ?? ""
                base = OpenAICompatibleProvider(
                    baseURL: url, apiKey: key, httpClient: httpClient, keyHeader: sent.keyHeader, headers: sent.headers,
                    continueFinalMessage: entry.continueFinalMessage ?? false, sendsThinkingBlocks: entry.thinkingBlocks ?? false,
                    logger: logger)
            }
            let local = entry.kind == "local"
            let (provider, limiter) = resilience.wrap(
                base, name: entry.name, concurrency: entry.concurrency ?? (local ? 4 : 64), queue: entry.queue ?? (local ? 64 : 256))
            routes[entry.name] = ModelRouter.Route(
                provider: entry.masks(byDefault: maskPersonalData) ? masking(provider) : provider, fallbacks: entry.fallbacks ?? [],
                limiter: limiter)
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
    func apply(to catalog: inout ModelCatalog, localContextWindow: Int?, maskPersonalData: Bool) {
        for entry in entries {
            catalog.setMasksPersonalData(entry.name, entry.masks(byDefault: maskPersonalData))
            if entry.kind == "local" {
                catalog.setPrice(entry.name, ModelPrice(inputPerMillion: "0", outputPerMillion: "0")!)
                if let localContextWindow { catalog.setContextWindow(entry.name, localContextWindow) }
                // SmolLM2 on llama-server without a vision projector: text only, and no reasoning model.
                catalog.setAcceptsImages(entry.name, false)
                catalog.setReasons(entry.name, false)
            }
            if let vision = entry.vision { catalog.setAcceptsImages(entry.name, vision) }
            if let reasoning = entry.reasoning { catalog.setReasons(entry.name, reasoning) }
            if let prefill = entry.prefill ?? (entry.kind == "anthropic" || entry.kind == "local" || entry.continueFinalMessage == true ? true : nil) {
                catalog.setContinuesPrefill(entry.name, prefill)
            }
            if let window = entry.contextWindow { catalog.setContextWindow(entry.name, window) }
            if case .success(let price) = entry.price { catalog.setPrice(entry.name, price) }
        }
    }
}
