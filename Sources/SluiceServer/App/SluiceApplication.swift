import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import SluiceCore
import SluiceGuard
import SluiceProviders

/// Everything the HTTP application needs, passed in explicitly: tests build the same app with other parts.
public struct SluiceDependencies: Sendable {
    public var store: any ConversationStore
    public var provider: any ChatProvider
    public var defaultModel: String
    public var turnSettings: TurnSettings
    /// Folder of the browser app served at `/`; `nil` serves no static files.
    public var webRoot: String?
    /// Forward a client's `X-Sluice-Scenario` header upstream (for driving the simulator's faults).
    public var forwardScenarioHeader: Bool
    /// How retry back-off waits (tests pass one that records instead of sleeping).
    public var sleeper: any Sleeper
    /// Where counters and histograms go; served at `/metrics`.
    public var metrics: SluiceMetrics
    /// Counts tokens with the default model's tokenizer (usage when the provider reports none, budgets).
    public var promptCounter: (any PromptCounter)?
    /// Token budgets and the usage ledger; `nil` turns budgets off.
    public var budgets: (any BudgetStore)?
    /// What each model costs (`cost_usd` in `done`, the ledger) and its context window.
    public var catalog: ModelCatalog
    /// The output tokens held for a turn when no `max_tokens` is configured.
    public var defaultOutputReserve: Int
    /// Screens user messages before they go upstream; `nil` sends everything.
    public var promptGuard: PromptGuard?
    /// Credential shapes redacted from answers (with the system prompt and `secrets`); empty turns it off.
    public var outputCredentials: [CredentialPattern]
    /// Exact strings (the upstream keys) that are redacted wherever they appear in an answer.
    public var secrets: [String]
    /// Folds older messages into a conversation's running summary; `nil` leaves them out of the window unsummarised.
    public var summarizer: (any ConversationSummarizer)?
    /// How conversations are fitted into the model's window.
    public var contextSettings: ContextSettings
    /// The upstream's concurrency limit and queue (the provider is wrapped in a `QueuedProvider` using it): a
    /// turn is refused with 503 `busy` while the queue is full.
    public var upstreamLimiter: ConcurrencyLimiter?
    /// Per model (a `ModelRouter`): its queue, and the models to try when it fails before its first token.
    public var modelLimiter: @Sendable (String) -> ConcurrencyLimiter?
    public var fallbacks: @Sendable (String) -> [String]
    /// Answers to temperature-0 requests, served marked `cached` when every model fails; `nil` turns it off.
    public var answerCache: AnswerCache?
    /// The response cache gateway calls use (`--response-cache-seconds`); `nil` turns it off.
    public var responseCache: ResponseCacheSettings? = nil
    /// The models `GET /v1/models` lists besides the default one (those of `--models`).
    public var listedModels: [String] = []
    /// Other names gateway clients may ask for the served models by (`--alias`).
    public var modelAliases = ModelAliases()
    /// The model that names conversations after their first answer (`--title-model`; `TitleRoute`).
    public var titleModel = TitleModel.conversationModel
    /// Where the ends of answers the database did not take are kept to outlive the process (`AnswerEndSpool`;
    /// `Serve.unsavedEndsFile`); `nil` keeps them in memory only.
    public var unsavedEndsFile: URL?
    /// What happens to the running answers when Sluice is asked to stop (`sluice serve` begins it on SIGTERM or
    /// SIGINT); `nil` stops them at once at shutdown.
    public var shutdownDrain: ShutdownDrain?
    /// Hashes and checks passwords (`POST /api/sign-in`); tests give it bcrypt's least cost.
    public var passwords = PasswordHasher()
    /// How long a session from signing in with a password lasts after its last use (`--session-days`, 30 by default).
    public var sessionLifetime: Duration = .seconds(30 * 86_400)
    /// Whether people may make their own accounts (`--sign-up`; off by default).
    public var signUp = SignUpMode.off
    /// Who a request came from, past the trusted reverse proxies (`--trusted-proxy`).
    public var clientAddresses = ClientAddresses()
    /// Signing in with an OpenID Connect provider (`--oidc-issuer`); `nil` offers only names and passwords.
    public var singleSignOn: SingleSignOn?
    /// Whether a name and password sign in (`--password-sign-in`, on by default); off, only the provider and tokens do.
    public var passwordSignIn = true

    public init(
        store: any ConversationStore, provider: any ChatProvider, defaultModel: String,
        turnSettings: TurnSettings = TurnSettings(), webRoot: String? = nil, forwardScenarioHeader: Bool = false,
        sleeper: any Sleeper = ContinuousSleeper(), metrics: SluiceMetrics = SluiceMetrics(),
        promptCounter: (any PromptCounter)? = nil, budgets: (any BudgetStore)? = nil, catalog: ModelCatalog = ModelCatalog(),
        defaultOutputReserve: Int = 1024, promptGuard: PromptGuard? = nil, outputCredentials: [CredentialPattern] = [],
        secrets: [String] = [], summarizer: (any ConversationSummarizer)? = nil,
        contextSettings: ContextSettings = ContextSettings(), upstreamLimiter: ConcurrencyLimiter? = nil,
        modelLimiter: @escaping @Sendable (String) -> ConcurrencyLimiter? = { _ in nil },
        fallbacks: @escaping @Sendable (String) -> [String] = { _ in [] }, answerCache: AnswerCache? = AnswerCache()
    ) {
        self.answerCache = answerCache
        self.modelLimiter = modelLimiter
        self.fallbacks = fallbacks
        self.upstreamLimiter = upstreamLimiter
        self.summarizer = summarizer
        self.contextSettings = contextSettings
        self.promptGuard = promptGuard
        self.outputCredentials = outputCredentials
        self.secrets = secrets
        self.promptCounter = promptCounter
        self.budgets = budgets
        self.catalog = catalog
        self.defaultOutputReserve = defaultOutputReserve
        self.sleeper = sleeper
        self.metrics = metrics
        self.store = store
        self.provider = provider
        self.defaultModel = defaultModel
        self.turnSettings = turnSettings
        self.webRoot = webRoot
        self.forwardScenarioHeader = forwardScenarioHeader
    }
}

/// Builds the router of the Sluice HTTP API and web app. `hub`, `progressWriter` and `unsavedEnds` must run as
/// services beside the server.
public func buildRouter(
    _ dependencies: SluiceDependencies, hub: GenerationHub, progressWriter: ProgressWriter, unsavedEnds: UnsavedAnswerEnds,
    logger: Logger
) -> Router<SluiceRequestContext> {
    let router = Router(context: SluiceRequestContext.self)
    router.add(middleware: SecurityHeadersMiddleware())
    router.add(middleware: ErrorEnvelopeMiddleware(metrics: dependencies.metrics))
    if let webRoot = dependencies.webRoot {
        router.add(middleware: FileMiddleware(webRoot, searchForIndexHtml: true, logger: logger))
    }
    HealthRoutes(store: dependencies.store, provider: dependencies.provider, hub: hub, defaultModel: dependencies.defaultModel)
        .register(on: router)
    router.get("metrics") { _, context in
        dependencies.metrics.setActiveGenerations(hub.runningCount)
        dependencies.metrics.setUnsavedAnswerEnds(unsavedEnds.count)
        do {
            dependencies.metrics.setTeamSpending(try await dependencies.store.teams(now: Date()))
        } catch {
            // The rest of the metrics still answer; the team gauges keep their last figures.
            context.logger.warning("could not read the teams' spending for /metrics", metadata: ["error": "\(error)"])
        }
        if let budgets = dependencies.budgets {
            do {
                dependencies.metrics.setTagSpending(try await budgets.tagBudgets(now: Date()))
            } catch {
                context.logger.warning("could not read the tags' spending for /metrics", metadata: ["error": "\(error)"])
            }
        }
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: dependencies.metrics.exposition())))
    }

    let tokens = TokenCache()
    // What `GET /v1/models` and the web app's picker list: the default first, then those of `--models`.
    let servedModels = [dependencies.defaultModel] + dependencies.listedModels.filter { $0 != dependencies.defaultModel }
    let activity = SessionActivity(store: dependencies.store, lifetime: dependencies.sessionLifetime)
    let api = router.group("api").add(middleware: AuthMiddleware(store: dependencies.store, cache: tokens, activity: activity))
    let contextBuilder = ContextBuilder(
        store: dependencies.store, counter: dependencies.promptCounter, catalog: dependencies.catalog,
        summarizer: dependencies.summarizer, settings: dependencies.contextSettings,
        outputReserve: dependencies.turnSettings.maxOutputTokens ?? dependencies.defaultOutputReserve,
        metrics: dependencies.metrics)
    let meter = ContextMeter(
        counter: dependencies.promptCounter, catalog: dependencies.catalog, budgets: dependencies.budgets,
        builder: contextBuilder)
    ConversationRoutes(
        store: dependencies.store, defaultModel: dependencies.defaultModel, meter: meter,
        maxOutputTokens: dependencies.turnSettings.maxOutputTokens, defaultOutputReserve: dependencies.defaultOutputReserve
    ).register(on: api)
    let redaction = ChatTurn.Redaction(credentials: dependencies.outputCredentials, secrets: dependencies.secrets)
    let turn = ChatTurn(
        store: dependencies.store, progressWriter: progressWriter, unsavedEnds: unsavedEnds, provider: dependencies.provider,
        settings: dependencies.turnSettings,
        sleeper: dependencies.sleeper, metrics: dependencies.metrics, logger: logger, counter: dependencies.promptCounter,
        budgets: dependencies.budgets, catalog: dependencies.catalog,
        redaction: redaction,
        fallbacks: dependencies.fallbacks, answerCache: dependencies.answerCache,
        responseCache: dependencies.responseCache)
    let budget = TurnBudget(
        budgets: dependencies.budgets, counter: dependencies.promptCounter, catalog: dependencies.catalog,
        defaultOutputReserve: dependencies.defaultOutputReserve)
    let preparation = TurnPreparation(
        context: contextBuilder, budget: budget, maxOutputTokens: dependencies.turnSettings.maxOutputTokens)
    let launcher = TurnLauncher(
        store: dependencies.store, turn: turn, preparation: preparation, hub: hub,
        screen: PromptScreen(promptGuard: dependencies.promptGuard, store: dependencies.store, metrics: dependencies.metrics),
        limiter: { [dependencies] model in dependencies.modelLimiter(model) ?? dependencies.upstreamLimiter },
        forwardScenarioHeader: dependencies.forwardScenarioHeader)
    MessageRoutes(store: dependencies.store, launcher: launcher).register(on: api)
    MessageImageRoute(store: dependencies.store).register(on: api)
    BranchRoute(store: dependencies.store).register(on: api)
    SettingsRoute(store: dependencies.store).register(on: api)
    MeRoute(teams: dependencies.store).register(on: api)
    ProjectRoutes(store: dependencies.store).register(on: api)
    ProjectFileRoutes(store: dependencies.store).register(on: api)
    SavedPromptRoutes(store: dependencies.store).register(on: api)
    MemoryRoutes(store: dependencies.store).register(on: api)
    AllConversationsRoute(store: dependencies.store).register(on: api)
    TemporaryChatRoute(store: dependencies.store).register(on: api)
    EditRoute(store: dependencies.store, launcher: launcher).register(on: api)
    AnswerEditRoute(store: dependencies.store, hub: hub, promptGuard: dependencies.promptGuard, metrics: dependencies.metrics)
        .register(on: api)
    ImportRoute(store: dependencies.store, defaultModel: dependencies.defaultModel, promptGuard: dependencies.promptGuard)
        .register(on: api)
    VersionSelectRoute(store: dependencies.store, meter: meter, hub: hub).register(on: api)
    FeedbackRoute(store: dependencies.store, metrics: dependencies.metrics).register(on: api)
    InstructionsRoute(store: dependencies.store).register(on: api)
    ContinueRoute(
        store: dependencies.store, turn: turn, preparation: preparation, hub: hub,
        forwardScenarioHeader: dependencies.forwardScenarioHeader
    ).register(on: api)
    AnswerVersionRoutes(
        store: dependencies.store, turn: turn, preparation: preparation, hub: hub,
        forwardScenarioHeader: dependencies.forwardScenarioHeader
    ).register(on: api)
    UsageRoutes(budgets: dependencies.budgets).register(on: api)
    CallLogRoute(calls: dependencies.budgets, store: dependencies.store).register(on: api)
    KeyRoutes(
        store: dependencies.store, budgets: dependencies.budgets, tokens: tokens, models: servedModels,
        aliases: dependencies.modelAliases, clients: dependencies.clientAddresses
    ).register(on: api)
    AdminUserRoutes(
        store: dependencies.store, budgets: dependencies.budgets, tokens: tokens, models: servedModels,
        aliases: dependencies.modelAliases, passwords: dependencies.passwords, clients: dependencies.clientAddresses
    ).register(on: api)
    AdminTeamRoutes(
        store: dependencies.store, tokens: tokens, models: servedModels, aliases: dependencies.modelAliases,
        clients: dependencies.clientAddresses
    ).register(on: api)
    AdminTagBudgetRoutes(store: dependencies.store, budgets: dependencies.budgets, clients: dependencies.clientAddresses)
        .register(on: api)
    AuditLogRoutes(store: dependencies.store).register(on: api)
    SecurityLog(store: dependencies.store, clients: dependencies.clientAddresses).register(on: api)
    AdminUserSessionRoutes(store: dependencies.store, tokens: tokens, clients: dependencies.clientAddresses).register(on: api)
    SignInRoutes(
        store: dependencies.store, tokens: tokens, passwords: dependencies.passwords,
        sessionLifetime: dependencies.sessionLifetime, clients: dependencies.clientAddresses,
        passwordSignIn: dependencies.passwordSignIn
    ).register(public: router, signedIn: api)
    TwoStepRoutes(store: dependencies.store, passwords: dependencies.passwords, clients: dependencies.clientAddresses).register(on: api)
    SingleSignOnRoutes(
        store: dependencies.store, budgets: dependencies.budgets, singleSignOn: dependencies.singleSignOn,
        sessionLifetime: dependencies.sessionLifetime, clients: dependencies.clientAddresses,
        passwordSignIn: dependencies.passwordSignIn
    ).register(public: router)
    ProviderConnectionRoutes(
        store: dependencies.store, singleSignOn: dependencies.singleSignOn, clients: dependencies.clientAddresses,
        passwordSignIn: dependencies.passwordSignIn
    ).register(on: api)
    SignUpRoute(
        store: dependencies.store, budgets: dependencies.budgets, passwords: dependencies.passwords, mode: dependencies.signUp,
        sessionLifetime: dependencies.sessionLifetime, clients: dependencies.clientAddresses
    ).register(public: router)
    ModelRoutes(
        models: servedModels, defaultModel: dependencies.defaultModel, catalog: dependencies.catalog,
        maxMessageCharacters: dependencies.promptGuard?.maxCharacters, writesTitles: dependencies.titleModel != .off
    ).register(on: api)
    let gateway = GatewayRoutes(
        store: dependencies.store, launcher: launcher, defaultModel: dependencies.defaultModel, models: servedModels,
        aliases: dependencies.modelAliases)
    let v1 = router.group("v1").add(middleware: AuthMiddleware(store: dependencies.store, cache: tokens, activity: activity))
    gateway.register(on: v1)
    AnthropicRoutes(gateway: gateway).register(on: v1)
    let passThrough = PassThroughServices(
        gateway: gateway, provider: dependencies.provider, budget: budget,
        unsavedEnds: unsavedEnds, counter: dependencies.promptCounter, catalog: dependencies.catalog, settings: dependencies.turnSettings,
        sleeper: dependencies.sleeper, metrics: dependencies.metrics, forwardScenarioHeader: dependencies.forwardScenarioHeader,
        drain: dependencies.shutdownDrain)
    ShareRoutes(
        store: dependencies.store,
        importer: ImportRoute(store: dependencies.store, defaultModel: dependencies.defaultModel, promptGuard: dependencies.promptGuard),
        webRoot: dependencies.webRoot
    ).register(owner: api, public: router)
    TitleRoute(services: passThrough, store: dependencies.store, titleModel: dependencies.titleModel, redaction: redaction)
        .register(on: api)
    EmbeddingsRoute(services: passThrough, responseCache: dependencies.responseCache).register(on: v1)
    RerankRoute(services: passThrough, responseCache: dependencies.responseCache).register(on: v1)
    TextCompletionsRoute(
        services: passThrough, promptGuard: dependencies.promptGuard, fallbacks: dependencies.fallbacks,
        responseCache: dependencies.responseCache
    ).register(on: v1)
    let counting = InputTokenCounter(gateway: gateway, counter: dependencies.promptCounter)
    AnthropicTokenCount(counting: counting).register(on: v1)
    let responses = ResponsesRoutes(gateway: gateway, counting: counting)
    responses.register(on: v1)
    ResponsesInputItems(routes: responses).register(on: v1)
    ContextRoutes(store: dependencies.store, builder: contextBuilder).register(on: api)
    return router
}

/// Builds the Hummingbird application. Call `store.migrate()` and `recoverInterruptedMessages()` before running it
/// (`prepareStore` does both).
public func buildApplication(
    _ dependencies: SluiceDependencies, host: String, port: Int, logger: Logger,
    services: [any Service] = [], onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let hub = GenerationHub(drain: dependencies.shutdownDrain, logger: logger)
    let progressWriter = ProgressWriter(
        store: dependencies.store, interval: dependencies.turnSettings.flushInterval, logger: logger)
    let unsavedEnds = UnsavedAnswerEnds(
        store: dependencies.store, budgets: dependencies.budgets, firstWait: dependencies.turnSettings.unsavedEndFirstWait,
        spool: dependencies.unsavedEndsFile, logger: logger)
    return Application(
        router: buildRouter(dependencies, hub: hub, progressWriter: progressWriter, unsavedEnds: unsavedEnds, logger: logger),
        configuration: .init(address: .hostname(host, port: port), serverName: "Sluice"),
        // The hub comes first so that it shuts down last, after the server stopped taking requests; the progress
        // writer and the ends kept to write again outlast the generations they save.
        services: [
            unsavedEnds, progressWriter, hub, UnkeptConversationSweeper(store: dependencies.store, interval: .seconds(600), logger: logger),
            IdleMemoryReturner(hub: hub, logger: logger), RemoteStopListener(store: dependencies.store, hub: hub, logger: logger),
        ]
            + services,
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) },
        logger: logger)
}

/// Brings the schema up to date, writes the ends of answers the database did not take before a Sluice stopped (from
/// the files of `leftOverEnds` whose owner no longer runs, settling their holds with `budgets`), and marks answers
/// that a crash left `streaming` as `partial`.
public func prepareStore(
    _ store: any ConversationStore, budgets: (any BudgetStore)? = nil, leftOverEnds: [URL] = [], logger: Logger
) async throws {
    try await store.migrate()
    for file in leftOverEnds {
        let written = try await AnswerEndSpool(file: file, logger: logger).writeLeftOver(store: store, budgets: budgets)
        if written > 0 {
            logger.notice(
                "wrote the ends of answers or calls the database had not taken before a Sluice stopped",
                metadata: ["count": "\(written)", "file": "\(file.path)"])
        }
    }
    let recovered = try await store.recoverInterruptedMessages()
    if recovered > 0 {
        logger.warning("marked answers interrupted by the last stop as partial", metadata: ["count": "\(recovered)"])
    }
}
