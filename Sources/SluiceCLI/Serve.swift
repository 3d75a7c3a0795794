import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import SluiceCore
import SluiceGuard
import SluiceProviders
import SluiceTokenizer
import SluiceServer
import SluiceStore

/// `sluice serve`: runs the HTTP API and web app.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the Sluice server.",
        discussion: "Each flag has an environment variable (SLUICE_HOST, SLUICE_PORT, SLUICE_DB, SLUICE_UPSTREAM, SLUICE_UPSTREAM_KEY, SLUICE_MODEL, SLUICE_LOCAL_MODEL, SLUICE_LLAMA_SERVER, SLUICE_WEB_ROOT, SLUICE_LOG_LEVEL); the flag wins.")

    @Option(help: "Address to listen on (SLUICE_HOST, default 127.0.0.1).") var host: String?
    @Option(help: "Port to listen on, 0 for any free port (SLUICE_PORT, default 8080).") var port: Int?
    @Option(help: "Where Sluice keeps its data: an SQLite file path, or postgres://user:password@host:port/database to share one PostgreSQL between several instances (SLUICE_DB, default ./data/sluice.sqlite).") var db: String?
    @Option(help: "Base URL of an OpenAI-compatible API, e.g. http://127.0.0.1:8081/v1 (SLUICE_UPSTREAM).") var upstream: String?
    @Option(help: "API key for the upstream (SLUICE_UPSTREAM_KEY). Never logged.") var upstreamKey: String?
    @Option(help: "The header the upstream reads its key from, such as api-key for Azure OpenAI (SLUICE_UPSTREAM_KEY_HEADER; default Authorization: Bearer, x-api-key for anthropic).") var upstreamKeyHeader: String?
    @Option(help: "A YAML file of models: kind (openai, anthropic, local), base_url, api_key_env, context window, prices, concurrency, queue and fallbacks (SLUICE_MODELS). See docs/reliability.md.") var models: String?
    @Option(help: "What the upstream speaks: openai (Chat Completions: OpenAI, llama-server, vLLM, Ollama) or anthropic (the Messages API; --upstream defaults to https://api.anthropic.com/v1) (SLUICE_UPSTREAM_KIND, default openai).") var upstreamKind: String?
    @Option(help: "Default model name (SLUICE_MODEL).") var model: String?
    @Option(help: "Another name for a served model, for clients built to ask for one, e.g. 'claude-*=SmolLM2-135M-Instruct' or gpt-4o=local ('*' at the end takes every name so beginning; repeatable; SLUICE_MODEL_ALIASES, comma-separated; also 'aliases:' in the models file).") var alias: [String] = []
    @Option(help: "A GGUF model to serve with a supervised llama-server child (SLUICE_LOCAL_MODEL).") var localModel: String?
    @Option(help: "Path of the llama-server binary for --local-model (SLUICE_LLAMA_SERVER).") var llamaServer: String?
    @Option(help: "Folder of the web app (SLUICE_WEB_ROOT, default ./web).") var webRoot: String?
    @Option(help: "Milliseconds to wait for the first token (SLUICE_FIRST_TOKEN_TIMEOUT_MS, default 30000).") var firstTokenTimeoutMs: Int?
    @Option(help: "Milliseconds of silence allowed between tokens (SLUICE_IDLE_TIMEOUT_MS, default 30000).") var idleTimeoutMs: Int?
    @Option(help: "Seconds the answers being written when Sluice is asked to stop (SIGTERM, Ctrl-C) get to finish; a second signal, or the end of this time, stops them with their text so far kept (SLUICE_SHUTDOWN_GRACE_SECONDS, default 20: within the 30 s docker stop and Kubernetes allow).") var shutdownGraceSeconds: Int?
    @Option(help: "Milliseconds one answer may take in all, retries included; then it is cut and the text so far kept (SLUICE_TOTAL_TIMEOUT_MS, default 600000).") var totalTimeoutMs: Int?
    @Option(help: "Most tokens per answer, sent upstream as max_tokens (SLUICE_MAX_OUTPUT_TOKENS, default: the model's limit).") var maxOutputTokens: Int?
    @Option(help: "Retries before the first token (SLUICE_MAX_RETRIES, default 5; 0 turns retries off).") var maxRetries: Int?
    @Option(help: "Most seconds spent waiting between retries of one answer (SLUICE_RETRY_BUDGET_SECONDS, default 60).") var retryBudgetSeconds: Int?
    @Option(help: "text or json: one JSON object per line, for log shippers (SLUICE_LOG_FORMAT, default text).") var logFormat: String?
    @Option(help: "trace, debug, info, notice, warning, error or critical (SLUICE_LOG_LEVEL, default info).") var logLevel: String?
    @Option(help: "Hours in a token budget period; periods end on multiples of it since 1970, so 24 resets at UTC midnight (SLUICE_BUDGET_PERIOD_HOURS, default 24).") var budgetPeriodHours: Int?
    @Option(help: "A daily spending limit for the whole service in USD, e.g. 25.00; turns that would pass it are refused (SLUICE_GLOBAL_DAILY_USD, default none).") var globalDailyUsd: String?
    @Option(help: "A model's price in USD per million input/output tokens, overriding the public list, e.g. gpt-4o=2.50/10.00, with a third figure for cached input: gpt-4o=2.50/10.00/1.25 (repeatable; SLUICE_PRICES, comma-separated).") var price: [String] = []
    @Option(help: "Keep gateway answers this many seconds and answer an identical call (same model, messages, tools and options) from them at once, charged nothing; a call with 'Cache-Control: no-cache' gets a fresh answer (SLUICE_RESPONSE_CACHE_SECONDS, default 0: off).") var responseCacheSeconds: Int?
    @Flag(help: "One response cache for all users instead of one per user (SLUICE_RESPONSE_CACHE_SHARED=1).") var responseCacheShared = false
    @Flag(help: "Forward a client's X-Sluice-Scenario header upstream (for the simulator).") var forwardScenarioHeader = false
    @Flag(help: "Stop generating when the browser that started an answer disconnects, storing the text so far as partial (SLUICE_STOP_ON_DISCONNECT=1). By default the answer is finished and stored, and the page resumes it.") var stopOnDisconnect = false
    @Option(help: "Open the upstream's circuit breaker after this many failures in a row (or half of the last 20 calls failing); 0 turns it off (SLUICE_BREAKER_FAILURES, default 5).") var breakerFailures: Int?
    @Option(help: "Seconds an open circuit breaker waits before one probe call (SLUICE_BREAKER_COOLDOWN_SECONDS, default 30).") var breakerCooldownSeconds: Int?
    @Option(help: "At most this many answers are generated by the upstream at once (SLUICE_UPSTREAM_CONCURRENCY, default 4 for the local model, else 64).") var upstreamConcurrency: Int?
    @Option(help: "At most this many more wait in order; beyond that a new message gets 503 busy at once (SLUICE_UPSTREAM_QUEUE, default 64 for the local model, else 256).") var upstreamQueue: Int?
    @Option(help: "The longest user message sent upstream, in characters (SLUICE_MAX_MESSAGE_CHARS, default 2000).") var maxMessageChars: Int?
    @Option(help: "A YAML file of prompt-guard rules instead of the built-in ones (SLUICE_GUARD_RULES).") var guardRules: String?
    @Flag(help: "Send messages upstream without the prompt-injection guard (the length limit still applies).") var noPromptGuard = false
    @Flag(help: "Replace email addresses, phone numbers, card numbers, IBANs and social security numbers with placeholders before a message reaches a hosted model, and put them back in its answer (SLUICE_MASK_PERSONAL_DATA=1; the local model is left out: nothing leaves the machine; per model: mask_personal_data in the models file).") var maskPersonalData = false
    @Option(help: "The model that names conversations after their first answer (SLUICE_TITLE_MODEL, default: each conversation's own model; 'off': conversations keep their first line as the title).") var titleModel: String?
    @Option(help: "Days a browser signed in with a name and password stays signed in after it was last used (SLUICE_SESSION_DAYS, default 30).") var sessionDays: Int?
    @Option(help: "Whether people may make their own accounts with a name and password on the sign-in page: off, approval (each waits until an administrator approves it on the Users page) or open (SLUICE_SIGN_UP, default off).") var signUp: String?
    @OptionGroup(title: "Single sign-on (OpenID Connect)") var singleSignOnOptions: SingleSignOnOptions
    @Option(help: "The address of a reverse proxy in front of Sluice (nginx, Caddy) whose X-Forwarded-For names the client, e.g. 10.0.0.5; sign-ins are limited per client address and listed with it (repeatable; SLUICE_TRUSTED_PROXIES, comma-separated; default 127.0.0.1 and ::1, a proxy on this machine; 'none' trusts no proxy).") var trustedProxy: [String] = []
    @Option(help: "The model that folds older messages into a conversation's running summary (SLUICE_SUMMARY_MODEL, default: the default model, i.e. the local SmolLM2 out of the box).") var summaryModel: String?
    @Option(help: "At most this many recent messages are sent in full (SLUICE_CONTEXT_RECENT, default 10).") var contextRecent: Int?
    @Option(help: "The percentage of the context window the input may fill (SLUICE_CONTEXT_PERCENT, default 75).") var contextPercent: Int?
    @Option(help: "A model's own context rule, recent messages/percentage of the window, e.g. gpt-4o=20/80 (repeatable; SLUICE_CONTEXT_MODELS, comma-separated).") var contextModel: [String] = []

    func run() async throws {
        do {
            try await serve()
        } catch let error as SettingError {
            // One line that names the setting, without the usage text ArgumentParser would add.
            FileHandle.standardError.write(Data("sluice: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
    }

    private func serve() async throws {
        let settings = SettingResolver()
        // Checked before anything starts: a bad setting stops start-up with one line.
        let sessionDayCount = try settings.positiveInt(sessionDays, env: "SLUICE_SESSION_DAYS", name: "--session-days") ?? 30
        let signUpSetting = settings.string(signUp, env: "SLUICE_SIGN_UP", default: "off")!
        guard let signUpMode = SignUpMode(rawValue: signUpSetting) else {
            throw SettingError("--sign-up / SLUICE_SIGN_UP must be off, approval or open, not '\(signUpSetting)'")
        }
        let named = settings.list(trustedProxy, env: "SLUICE_TRUSTED_PROXIES")
        let proxies = named.isEmpty ? ClientAddresses.loopback : named == ["none"] ? [] : named
        for proxy in proxies where (try? SocketAddress(ipAddress: proxy, port: 0)) == nil {
            throw SettingError("--trusted-proxy / SLUICE_TRUSTED_PROXIES: '\(proxy)' is not an IP address such as 127.0.0.1 or ::1")
        }
        let host = settings.string(host, env: "SLUICE_HOST", default: "127.0.0.1")!
        let port = try settings.port(port, env: "SLUICE_PORT", default: 8080)
        let singleSignOn = try singleSignOnOptions.singleSignOn(settings, host: host, port: port)
        let passwordSignIn = try singleSignOnOptions.passwordSignInAllowed(settings, singleSignOn: singleSignOn, signUp: signUpMode)
        let levelName = settings.string(logLevel, env: "SLUICE_LOG_LEVEL", default: "info")!
        guard let level = Logger.Level(rawValue: levelName) else {
            throw SettingError("log level (--log-level / SLUICE_LOG_LEVEL) '\(levelName)' is not one of trace, debug, info, notice, warning, error, critical")
        }
        switch settings.string(logFormat, env: "SLUICE_LOG_FORMAT", default: "text")! {
        case "json": LoggingSystem.bootstrap { label in JSONLogHandler(label: label) }
        case "text": LoggingSystem.bootstrap { label in TextLogHandler(label: label) }
        case let other: throw SettingError("log format (--log-format / SLUICE_LOG_FORMAT) '\(other)' is not text or json")
        }
        var logger = Logger(label: "sluice")
        logger.logLevel = level

        let dbPath = settings.string(db, env: "SLUICE_DB", default: "./data/sluice.sqlite")!
        let upstreamKey = settings.string(upstreamKey, env: "SLUICE_UPSTREAM_KEY", default: nil)
        let upstreamKeyHeader = try UpstreamHeaders(
            keyHeader: settings.string(upstreamKeyHeader, env: "SLUICE_UPSTREAM_KEY_HEADER", default: nil), headers: nil,
            where: "--upstream-key-header / SLUICE_UPSTREAM_KEY_HEADER", environment: [:]).keyHeader
        let webRoot = settings.string(webRoot, env: "SLUICE_WEB_ROOT", default: "./web")!
        var turnSettings = TurnSettings(
            firstTokenTimeout: try settings.milliseconds(firstTokenTimeoutMs, env: "SLUICE_FIRST_TOKEN_TIMEOUT_MS", default: 30_000, name: "--first-token-timeout-ms"),
            idleTimeout: try settings.milliseconds(idleTimeoutMs, env: "SLUICE_IDLE_TIMEOUT_MS", default: 30_000, name: "--idle-timeout-ms"),
            totalTimeout: try settings.milliseconds(totalTimeoutMs, env: "SLUICE_TOTAL_TIMEOUT_MS", default: 600_000, name: "--total-timeout-ms"),
            maxOutputTokens: try settings.positiveInt(maxOutputTokens, env: "SLUICE_MAX_OUTPUT_TOKENS", name: "--max-output-tokens"),
            retryPolicy: RetryPolicy(
                maxRetries: try settings.count(maxRetries, env: "SLUICE_MAX_RETRIES", default: 5, name: "--max-retries"),
                maxTotalWait: .seconds(try settings.count(retryBudgetSeconds, env: "SLUICE_RETRY_BUDGET_SECONDS", default: 60, name: "--retry-budget-seconds"))),
            stopOnDisconnect: stopOnDisconnect || ["1", "true", "yes"].contains(settings.string(nil, env: "SLUICE_STOP_ON_DISCONNECT", default: "")!.lowercased()))
        let drain = ShutdownDrain(grace: .seconds(
            try settings.count(shutdownGraceSeconds, env: "SLUICE_SHUTDOWN_GRACE_SECONDS", default: 20, name: "--shutdown-grace-seconds")))
        let kind = settings.string(upstreamKind, env: "SLUICE_UPSTREAM_KIND", default: "openai")!
        guard ["openai", "anthropic"].contains(kind) else {
            throw SettingError("upstream kind (--upstream-kind / SLUICE_UPSTREAM_KIND) '\(kind)' is not openai or anthropic")
        }
        var upstreamURL = try settings.upstreamURL(upstream, env: "SLUICE_UPSTREAM")
            ?? (kind == "anthropic" ? "https://api.anthropic.com/v1" : nil)
        let localModelPath = settings.string(localModel, env: "SLUICE_LOCAL_MODEL", default: nil)
        let modelsConfig = try settings.string(models, env: "SLUICE_MODELS", default: nil).map {
            try ModelsConfig.load(path: $0, environment: ProcessInfo.processInfo.environment)
        }
        if modelsConfig?.needsLocalModel == true, localModelPath == nil {
            throw SettingError("the models file has a model of kind local: give --local-model and --llama-server (./sluice.sh run does)")
        }
        let budgetPeriod = try settings.positiveInt(budgetPeriodHours, env: "SLUICE_BUDGET_PERIOD_HOURS", name: "--budget-period-hours") ?? 24
        let globalDailyLimit = try settings.string(globalDailyUsd, env: "SLUICE_GLOBAL_DAILY_USD", default: nil).map { text in
            guard let amount = USDAmount(text), amount.picodollars > 0 else {
                throw SettingError("the global daily budget '\(text)' is not an amount of dollars like 25.00")
            }
            return amount
        }
        let priceOverrides = try Self.priceOverrides(
            price.isEmpty ? (settings.string(nil, env: "SLUICE_PRICES", default: nil)?.split(separator: ",").map(String.init) ?? []) : price)
        let rules = try Self.guardRules(path: settings.string(guardRules, env: "SLUICE_GUARD_RULES", default: nil))
        let maxCharacters = settings.string(maxMessageChars.map(String.init), env: "SLUICE_MAX_MESSAGE_CHARS", default: "2000")!
        guard let maxCharacters = Int(maxCharacters), maxCharacters > 0 else {
            throw SettingError("the message limit (--max-message-chars / SLUICE_MAX_MESSAGE_CHARS) '\(maxCharacters)' is not a positive number of characters")
        }
        // Without the guard only the length limit is applied: a rule set with no rule can never reach its threshold.
        let promptGuard = PromptGuard(rules: noPromptGuard ? try GuardRules(yaml: Self.lengthOnlyRules) : rules, maxCharacters: maxCharacters)

        let cacheSeconds = try settings.count(
            responseCacheSeconds, env: "SLUICE_RESPONSE_CACHE_SECONDS", default: 0, name: "--response-cache-seconds")
        let cacheShared = responseCacheShared
            || ["1", "true", "yes"].contains(settings.string(nil, env: "SLUICE_RESPONSE_CACHE_SHARED", default: "")!.lowercased())
        let maskPersonalData = maskPersonalData
            || ["1", "true", "yes"].contains(settings.string(nil, env: "SLUICE_MASK_PERSONAL_DATA", default: "")!.lowercased())
        let breakerFailures = try settings.count(breakerFailures, env: "SLUICE_BREAKER_FAILURES", default: 5, name: "--breaker-failures")
        let breakerCooldown = try settings.positiveInt(
            breakerCooldownSeconds, env: "SLUICE_BREAKER_COOLDOWN_SECONDS", name: "--breaker-cooldown-seconds") ?? 30
        let concurrency = try settings.positiveInt(upstreamConcurrency, env: "SLUICE_UPSTREAM_CONCURRENCY", name: "--upstream-concurrency")
        let queueCapacity = try settings.count(upstreamQueue, env: "SLUICE_UPSTREAM_QUEUE", default: -1, name: "--upstream-queue")
        let contextSettings = try Self.contextSettings(
            settings, recent: contextRecent, percent: contextPercent,
            perModel: contextModel.isEmpty
                ? (settings.string(nil, env: "SLUICE_CONTEXT_MODELS", default: nil)?.split(separator: ",").map(String.init) ?? [])
                : contextModel)

        let defaultModel = settings.string(
            model, env: "SLUICE_MODEL",
            default: modelsConfig?.entries.first?.name ?? (localModelPath == nil ? "default" : "SmolLM2-135M-Instruct"))!
        let served = [defaultModel] + (modelsConfig?.entries.map(\.name) ?? []).filter { $0 != defaultModel }
        let modelAliases = try Self.modelAliases(
            flags: alias.isEmpty ? (settings.string(nil, env: "SLUICE_MODEL_ALIASES", default: nil)?.split(separator: ",").map(String.init) ?? []) : alias,
            file: modelsConfig?.aliases ?? [:], hidden: modelsConfig?.hiddenAliases ?? [], served: served)

        // The local model starts only once every setting has been checked, so a bad flag leaves no child behind.
        var services: [any Service] = []
        /// Set when Sluice runs the local model itself: the tokens one llama-server slot holds.
        var localContextWindow: Int?

        var localURL: String?
        if upstreamURL == nil || modelsConfig?.needsLocalModel == true, let localModelPath {
            guard let binary = settings.string(llamaServer, env: "SLUICE_LLAMA_SERVER", default: nil) else {
                throw SettingError("--local-model needs --llama-server (SLUICE_LLAMA_SERVER): the path of a llama-server binary")
            }
            let logFolder = SluiceDatabases.isPostgres(dbPath) ? URL(fileURLWithPath: "./data") : URL(fileURLWithPath: dbPath).deletingLastPathComponent()
            let logPath = logFolder.appendingPathComponent("llama-server.log").path
            try FileManager.default.createDirectory(
                atPath: URL(fileURLWithPath: logPath).deletingLastPathComponent().path, withIntermediateDirectories: true)
            let llama = LlamaServerProcess(
                binary: binary, modelPath: localModelPath, logPath: logPath,
                recordPath: logFolder.appendingPathComponent("llama-server.pid").path, logger: logger)
            logger.info("starting the local model (llama-server)", metadata: ["model": "\(localModelPath)"])
            do {
                localURL = try await llama.start()
            } catch {
                throw SettingError("the local model did not start: \(error)")
            }
            services.append(llama)
            localContextWindow = llama.contextSize / llama.parallelSlots
            if upstreamURL == nil { upstreamURL = localURL }
        }
        guard upstreamURL != nil || modelsConfig != nil else {
            throw SettingError("no upstream: set --upstream (SLUICE_UPSTREAM) to an OpenAI-compatible base URL, or --local-model with --llama-server")
        }
        // Which model runs on the local llama-server: the default one without a models file, else those of kind local.
        let localModels: Set<String> = modelsConfig.map { Set($0.entries.filter { $0.kind == "local" }.map(\.name)) }
            ?? (upstreamURL == localURL && localURL != nil ? [defaultModel] : [])

        let store = try await SluiceDatabases.open(
            dbPath, budgetPeriod: TimeInterval(budgetPeriod * 3600), globalDailyLimit: globalDailyLimit, logger: logger)
        let endsFile = Self.unsavedEndsFile(database: dbPath, port: port)
        try await prepareStore(store, budgets: store, leftOverEnds: Self.leftOverEnds(database: dbPath, port: port), logger: logger)
        let signIn = try await Self.localSignIn(store: store)

        // Every setting is checked by now: nothing may throw between here and the client's shutdown below.
        var catalog = Self.catalog(
            file: settings.string(nil, env: "SLUICE_PRICE_TABLE", default: nil),
            localModel: localContextWindow.flatMap { window in localModels.isEmpty ? nil : (defaultModel, window) },
            overrides: priceOverrides, logger: logger)
        modelsConfig?.apply(to: &catalog, localContextWindow: localContextWindow, maskPersonalData: maskPersonalData)
        // Anthropic's API continues a prefilled answer.
        if modelsConfig == nil, kind == "anthropic" { catalog.setContinuesPrefill(defaultModel, true) }
        let summaryModelName = settings.string(summaryModel, env: "SLUICE_SUMMARY_MODEL", default: defaultModel)!
        // Metric series per model only for names the operator knows: configured, default, summariser, or priced.
        let titles = TitleModel(setting: settings.string(titleModel, env: "SLUICE_TITLE_MODEL", default: nil))
        let titleModelName: [String] = if case .named(let name) = titles { [name] } else { [] }
        let namedModels = Set((modelsConfig?.entries.map(\.name) ?? []) + [defaultModel, summaryModelName] + titleModelName)
        let knownCatalog = catalog
        let httpClient = UpstreamHTTPClient.make()
        let metrics = SluiceMetrics(knownModels: { namedModels.contains($0) || knownCatalog.price(for: $0) != nil })
        if let globalDailyLimit { metrics.setDailyBudget(usd: globalDailyLimit) }
        // Breakers shared through the database: instances on one PostgreSQL stop calling a dead upstream together.
        let sharing = breakerFailures > 0 ? CircuitSharing(store: store, logger: logger) : nil
        if let sharing { services.append(sharing) }
        let resilience = Resilience(
            breakerFailures: breakerFailures, breakerCooldown: .seconds(breakerCooldown), metrics: metrics, logger: logger,
            sharing: sharing)
        let masking = { @Sendable (provider: any ChatProvider) -> any ChatProvider in
            PersonalDataMaskingProvider(provider) { metrics.personalDataMasked(model: $0, counts: $1) }
        }
        // The upstream of --upstream (or the local model): every model without a route of its own goes there.
        let fallbackUpstream = upstreamURL.map { url -> (any ChatProvider, ConcurrencyLimiter) in
            let base: any ChatProvider = kind == "anthropic"
                ? AnthropicProvider(baseURL: url, apiKey: upstreamKey, httpClient: httpClient, keyHeader: upstreamKeyHeader, logger: logger)
                : OpenAICompatibleProvider(baseURL: url, apiKey: upstreamKey, httpClient: httpClient, keyHeader: upstreamKeyHeader, logger: logger)
            // The local model has 4 slots (llama-server -np 4): more at once would only queue inside it, unseen.
            let local = url == localURL
            let (provider, limiter) = resilience.wrap(
                base, name: URL(string: url)?.host ?? url, concurrency: concurrency ?? (local ? 4 : 64),
                queue: queueCapacity >= 0 ? queueCapacity : (local ? 64 : 256))
            return (maskPersonalData && !local ? masking(provider) : provider, limiter)
        }
        if maskPersonalData, upstreamURL != nil, upstreamURL != localURL, modelsConfig?.entries.contains(where: { $0.name == defaultModel }) != true {
            catalog.setMasksPersonalData(defaultModel, true)
        }
        let (routes, ownClients) = modelsConfig?.routes(
            httpClient: httpClient, localURL: localURL, resilience: resilience, maskPersonalData: maskPersonalData, masking: masking,
            logger: logger) ?? ([:], [])
        let router = ModelRouter(routes: routes, defaultProvider: fallbackUpstream?.0)
        let provider: any ChatProvider = routes.isEmpty ? fallbackUpstream!.0 : router
        let secrets = (upstreamKey.map { [$0] } ?? []) + (modelsConfig?.secrets ?? [])

        turnSettings.perModel = modelsConfig?.timeouts ?? [:]
        var dependencies = SluiceDependencies(
            store: store, provider: provider, defaultModel: defaultModel, turnSettings: turnSettings,
            webRoot: FileManager.default.fileExists(atPath: webRoot) ? webRoot : nil,
            forwardScenarioHeader: forwardScenarioHeader, metrics: metrics,
            promptCounter: Self.promptCounter(
                model: defaultModel, localModel: localModels.contains(defaultModel), upstreamURL: localURL ?? upstreamURL ?? "",
                httpClient: httpClient, vocabularyDirectory: settings.string(nil, env: "SLUICE_TIKTOKEN_DIR", default: nil),
                logger: logger),
            budgets: store,
            catalog: catalog,
            promptGuard: promptGuard, outputCredentials: rules.credentials, secrets: secrets,
            summarizer: ProviderSummarizer(
                provider: provider, model: summaryModelName),
            contextSettings: contextSettings, upstreamLimiter: fallbackUpstream?.1,
            modelLimiter: { routes[$0]?.limiter }, fallbacks: { router.fallbackChain(for: $0) })
        dependencies.listedModels = modelsConfig?.entries.map(\.name) ?? []
        dependencies.modelAliases = modelAliases
        dependencies.titleModel = titles
        dependencies.sessionLifetime = .seconds(sessionDayCount * 86_400)
        dependencies.signUp = signUpMode
        dependencies.singleSignOn = singleSignOn
        dependencies.passwordSignIn = passwordSignIn
        dependencies.clientAddresses = ClientAddresses(trustedProxies: proxies)
        dependencies.unsavedEndsFile = endsFile
        dependencies.shutdownDrain = drain
        if cacheSeconds > 0 {
            dependencies.responseCache = ResponseCacheSettings(store: store, ttl: .seconds(cacheSeconds), shared: cacheShared)
        }
        let shownUpstream = upstreamURL ?? "per model (\(routes.keys.sorted().joined(separator: ", ")))"
        let app = buildApplication(dependencies, host: host, port: port, logger: logger) { boundPort in
            let base = "http://\(host == "0.0.0.0" ? "127.0.0.1" : host):\(boundPort)/"
            switch signIn {
            // A sign-in link is a secret: not written to the journal, where a service's output is kept as a log.
            case .newToken where Console.outputIsJournal:
                Console.line("Sluice is ready at \(base)  (to sign in, 'sluice user token local' issues a token: open \(base)#token=<token>)")
            case .newToken(let token): Console.line("Sluice is ready: open \(base)#token=\(token)")
            case .existing: Console.line("Sluice is ready: open \(base)  (the browser keeps its token; 'sluice user token local' issues a new one)")
            }
            Console.line("Upstream: \(shownUpstream)  model: \(defaultModel)  database: \(SluiceDatabases.redacted(dbPath))"
                + (cacheSeconds > 0 ? "  response cache: \(cacheSeconds) s, \(cacheShared ? "shared by all users" : "per user")" : ""))
        }
        services.append(app)
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: Self.stopSignals, logger: logger))
        do {
            try await Self.run(group, drain: drain)
        } catch {
            for client in [httpClient] + ownClients { try? await client.shutdown() }
            try? await store.close()
            throw error
        }
        for client in ownClients { try await client.shutdown() }
        try await httpClient.shutdown()
        try await store.close()
    }
}

extension Serve {
    /// Rules that never reject (one rule that cannot match), for `--no-prompt-guard`.
    static let lengthOnlyRules = "threshold: 1.0\nrules:\n  - {id: none, category: none, weight: 0, words: ['(?!)']}\n"

    static func contextSettings(_ settings: SettingResolver, recent: Int?, percent: Int?, perModel: [String]) throws -> ContextSettings {
        var rules: [String: ContextSettings.ModelRule] = [:]
        for entry in perModel {
            let parts = entry.split(separator: "=", maxSplits: 1)
            let numbers = parts.count == 2 ? parts[1].split(separator: "/") : []
            guard parts.count == 2, numbers.count == 2, let recent = Int(numbers[0]), recent >= 1,
                let percent = Int(numbers[1]), (10...100).contains(percent)
            else {
                throw SettingError("context rule (--context-model / SLUICE_CONTEXT_MODELS) '\(entry)' is not MODEL=RECENT/PERCENT, e.g. gpt-4o=20/80")
            }
            rules[String(parts[0])] = .init(inputShare: Double(percent) / 100, maxRecentMessages: recent)
        }
        let recentText = settings.string(recent.map(String.init), env: "SLUICE_CONTEXT_RECENT", default: "10")!
        let percentText = settings.string(percent.map(String.init), env: "SLUICE_CONTEXT_PERCENT", default: "75")!
        guard let recent = Int(recentText), recent >= 1 else {
            throw SettingError("recent messages (--context-recent / SLUICE_CONTEXT_RECENT) '\(recentText)' is not a number of 1 or more")
        }
        guard let percent = Int(percentText), (10...100).contains(percent) else {
            throw SettingError("context share (--context-percent / SLUICE_CONTEXT_PERCENT) '\(percentText)' is not a percentage from 10 to 100")
        }
        return ContextSettings(
            inputShare: Double(percent) / 100, maxRecentMessages: recent, keepAfterFold: max(1, min(4, recent / 2)), perModel: rules)
    }

    static func guardRules(path: String?) throws -> GuardRules {
        do {
            return try path.map(GuardRules.load(from:)) ?? GuardRules.builtIn()
        } catch let error as GuardRules.InvalidRules {
            throw SettingError("prompt-guard rules (--guard-rules / SLUICE_GUARD_RULES): \(error.description)")
        }
    }

    /// How Sluice counts tokens for the default model: the local model counts with llama-server's own
    /// template and tokenizer; any other model with the tiktoken encoding of its family.
    static func promptCounter(
        model: String, localModel: Bool, upstreamURL: String, httpClient: HTTPClient, vocabularyDirectory: String?,
        logger: Logger
    ) -> (any PromptCounter)? {
        if localModel { return LlamaServerPromptCounter(baseURL: upstreamURL, httpClient: httpClient) }
        let folder = vocabularyDirectory
            ?? ((ProcessInfo.processInfo.environment["XDG_CACHE_HOME"] ?? (NSHomeDirectory() + "/.cache")) + "/sluice/tiktoken")
        do {
            let tokenizer = try BPETokenizer(encoding: .forModel(model), vocabularyDirectory: URL(fileURLWithPath: folder))
            // Conversations are sent again turn after turn: each long message is counted once.
            return ChatPromptCounter(tokenizer: CountCachingTokenizer(tokenizer))
        } catch {
            logger.warning("Sluice cannot count tokens itself; usage comes only from the upstream", metadata: ["reason": "\(error)"])
            return nil
        }
    }
}

extension Serve {
    /// Prices and context windows from litellm's public list (`SLUICE_PRICE_TABLE`, or the copy the setup
    /// script caches); the local model is free, and its window is what each llama-server slot holds.
    static func catalog(
        file: String?, localModel: (name: String, contextWindow: Int)?, overrides: [String: ModelPrice], logger: Logger
    ) -> ModelCatalog {
        let path = file ?? ((ProcessInfo.processInfo.environment["XDG_CACHE_HOME"] ?? (NSHomeDirectory() + "/.cache"))
            + "/sluice/litellm-1.91.5/model_prices_and_context_window_backup.json")
        var table = ModelCatalog()
        do {
            table = try ModelCatalog.litellm(contentsOf: URL(fileURLWithPath: path))
        } catch {
            logger.notice("no price list; costs are known only for the local model", metadata: ["path": "\(path)"])
        }
        if let localModel {
            table.setPrice(localModel.name, .free)
            table.setContextWindow(localModel.name, localModel.contextWindow)
            table.setAcceptsImages(localModel.name, false)
            table.setReasons(localModel.name, false)
            // llama-server continues a final assistant message (and says it again first, which the provider takes off).
            table.setContinuesPrefill(localModel.name, true)
        }
        for (model, price) in overrides { table.setPrice(model, price) }
        return table
    }
}

extension Serve {
    /// `MODEL=IN/OUT[/CACHED]` in USD per million tokens, e.g. `gpt-4o=2.50/10.00/1.25`.
    static func priceOverrides(_ specs: [String]) throws -> [String: ModelPrice] {
        var prices: [String: ModelPrice] = [:]
        for spec in specs.map({ $0.trimmingCharacters(in: .whitespaces) }) where !spec.isEmpty {
            let parts = spec.split(separator: "=", maxSplits: 1)
            let amounts = parts.count == 2 ? parts[1].split(separator: "/") : []
            guard parts.count == 2, !parts[0].isEmpty, (2...3).contains(amounts.count),
                  let price = ModelPrice(
                      inputPerMillion: String(amounts[0]), outputPerMillion: String(amounts[1]),
                      cachedInputPerMillion: amounts.count == 3 ? String(amounts[2]) : nil)
            else {
                throw SettingError(
                    "the price '\(spec)' is not MODEL=INPUT/OUTPUT[/CACHED_INPUT] in USD per million tokens, like gpt-4o=2.50/10.00/1.25")
            }
            prices[String(parts[0])] = price
        }
        return prices
    }
}
