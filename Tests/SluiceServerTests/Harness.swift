import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOHTTP1
import SluiceCore
import SluiceGuard
import SluiceProviders
import SluiceServer
import SluiceSimulator
import SluiceStore
import SluiceTestSupport
import SluiceTokenizer
import Synchronization
import Testing

/// A Sluice server and a simulator upstream, both listening on loopback, with two users.
struct Harness: Sendable {
    /// The test client: unlike `HTTPClient.shared` (8 connections per host) it lets hundreds of streams run at
    /// once. It lives as long as the test process.
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 1024
        // Opening a thousand connections at once on a loaded machine (the whole suite runs in parallel) takes
        // longer than the default 10 s wait for a pooled connection.
        configuration.timeout.connect = .seconds(60)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    let port: Int
    let simulatorPort: Int
    let store: any SluiceDatabase
    let alice: String
    let bob: String
    /// Records retry waits instead of sleeping.
    let sleeper: RecordingSleeper
    /// Runs `body` against a second Sluice instance on the same database (its own store, pool and generation
    /// hub, as another process would have) and the same simulator.
    let peer: @Sendable (_ body: @escaping @Sendable (Harness) async throws -> Void) async throws -> Void

    static let passwords = PasswordHasher(cost: 4)

    /// Runs `body` against a fresh server, simulator and database; tears everything down afterwards.
    static func run(
        simulator: SimulatorSettings = SimulatorSettings(tokens: 24, delay: .milliseconds(5), stall: .seconds(30)),
        // Timeouts far above any answer here: tests of timeouts set their own, and a loaded machine (the
        // whole suite runs in parallel on two cores) must not turn a slow answer into a timeout.
        turn: TurnSettings = TurnSettings(
            firstTokenTimeout: .seconds(60), idleTimeout: .seconds(60), retryPolicy: RetryPolicy(jitter: 0)),
        upstreamOverride: String? = nil,
        counter: (any PromptCounter)? = ChatPromptCounter(tokenizer: WordTokenizer()),
        budgets: Bool = false, database: StoreBackend = .sqlite, catalog: ModelCatalog = ModelCatalog(), globalDailyUSD: USDAmount? = nil,
        maxMessageCharacters: Int = 2000, summarizer: (any ConversationSummarizer)? = nil,
        contextSettings: ContextSettings = ContextSettings(), anthropic: Bool = false, breaker: CircuitBreaker? = nil,
        metrics: SluiceMetrics = SluiceMetrics(), limiter: ConcurrencyLimiter? = nil, fallbacks: [String: [String]] = [:],
        listedModels: [String] = [], aliases: [String: String] = [:], responseCache: (ttl: Duration, shared: Bool)? = nil,
        titleModel: TitleModel = .conversationModel,
        wrapBudgets: (@Sendable (any BudgetStore) -> any BudgetStore)? = nil,
        drain: ShutdownDrain? = nil, signUp: SignUpMode = .off, trustedProxies: [String] = [],
        passwords: PasswordHasher = Harness.passwords, singleSignOn: SingleSignOn? = nil, passwordSignIn: Bool = true,
        maskPersonalData: Bool = false,
        _ body: @escaping @Sendable (Harness) async throws -> Void
    ) async throws {
        try await Simulator.application(port: 0, settings: simulator).test(.live) { simulatorClient in
            let simulatorPort = try #require(simulatorClient.port)
            let logger = TestDatabases.quietLogger
            let location = try await TestDatabases.makeLocation(database)
            let store = try await SluiceDatabases.open(location, globalDailyLimit: globalDailyUSD, logger: logger)
            try await prepareStore(store, logger: logger)
            let alice = AccessToken.generate()
            let bob = AccessToken.generate()
            _ = try await store.createUser(name: "alice", plan: .free, tokenHash: AccessToken.hash(alice))
            _ = try await store.createUser(name: "bob", plan: .free, tokenHash: AccessToken.hash(bob))

            let httpClient = UpstreamHTTPClient.make()
            let sleeper = RecordingSleeper()
            /// One Sluice instance on `store`, serving `body`'s requests.
            @Sendable func serve(_ store: any SluiceDatabase, _ body: @escaping @Sendable (Harness) async throws -> Void) async throws {
                // The simulator speaks both wire formats; `anthropic` drives the Messages API side.
                let upstream: any ChatProvider = anthropic
                    ? AnthropicProvider(
                        baseURL: upstreamOverride ?? "http://127.0.0.1:\(simulatorPort)/v1", apiKey: "sk-test-secret",
                        httpClient: httpClient, logger: logger)
                    : OpenAICompatibleProvider(
                        baseURL: upstreamOverride ?? "http://127.0.0.1:\(simulatorPort)/v1", apiKey: "sk-test-secret",
                        httpClient: httpClient, logger: logger)
                let guarded: any ChatProvider = breaker.map { CircuitBreakingProvider(upstream, breaker: $0) } ?? upstream
                let queued: any ChatProvider = limiter.map { QueuedProvider(guarded, limiter: $0) } ?? guarded
                // As `sluice serve --mask-personal-data` wraps a hosted model's provider.
                let provider: any ChatProvider = maskPersonalData
                    ? PersonalDataMaskingProvider(queued) { metrics.personalDataMasked(model: $0, counts: $1) } : queued
                var dependencies = SluiceDependencies(
                    store: store, provider: provider, defaultModel: "sim", turnSettings: turn, forwardScenarioHeader: true,
                    sleeper: sleeper, metrics: metrics, promptCounter: counter, budgets: budgets ? (wrapBudgets?(store) ?? store) : nil, catalog: catalog,
                    // The built-in guard, as `sluice serve` runs it, with the upstream key as the secret to redact.
                    promptGuard: PromptGuard(rules: try GuardRules.builtIn(), maxCharacters: maxMessageCharacters),
                    outputCredentials: try GuardRules.builtIn().credentials, secrets: ["sk-test-secret"],
                    summarizer: summarizer, contextSettings: contextSettings, upstreamLimiter: limiter,
                    fallbacks: { fallbacks[$0] ?? [] })
                dependencies.listedModels = listedModels
                dependencies.titleModel = titleModel
                dependencies.shutdownDrain = drain
                // bcrypt's least cost: the suite hashes many passwords on two cores.
                dependencies.passwords = passwords
                dependencies.signUp = signUp
                dependencies.singleSignOn = singleSignOn
                dependencies.passwordSignIn = passwordSignIn
                dependencies.clientAddresses = ClientAddresses(trustedProxies: trustedProxies)
                dependencies.modelAliases = try ModelAliases(aliases, served: ["sim"] + listedModels)
                // Each instance reads and writes the cache through its own store, as separate processes would.
                dependencies.responseCache = responseCache.map { ResponseCacheSettings(store: store, ttl: $0.ttl, shared: $0.shared) }
                let app = buildApplication(dependencies, host: "127.0.0.1", port: 0, logger: logger)
                try await app.test(.live) { client in
                    let harness = Harness(
                        port: try #require(client.port), simulatorPort: simulatorPort, store: store, alice: alice, bob: bob,
                        sleeper: sleeper,
                        peer: { peerBody in
                            let peerStore = try await SluiceDatabases.open(location, globalDailyLimit: globalDailyUSD, logger: logger)
                            do {
                                try await prepareStore(peerStore, logger: logger)
                                try await serve(peerStore, peerBody)
                            } catch {
                                try? await peerStore.close()
                                throw error
                            }
                            try await peerStore.close()
                        })
                    try await body(harness)
                }
            }
            do {
                try await serve(store, body)
            } catch {
                try await httpClient.shutdown()
                try await store.close()
                throw error
            }
            try await httpClient.shutdown()
            try await store.close()
        }
    }

    /// A JSON reply: status and the decoded object (nil when the body is empty or not an object).
    struct Reply {
        let status: Int
        let json: [String: Any]?
        let headers: HTTPHeaders

        var errorCode: String? { (json?["error"] as? [String: Any])?["code"] as? String }
        var errorMessage: String? { (json?["error"] as? [String: Any])?["message"] as? String }
        /// The `messages` of a conversation (or a shared copy) the reply holds; none when it holds none.
        var messages: [[String: Any]] { json?["messages"] as? [[String: Any]] ?? [] }
    }

    func request(
        _ method: HTTPMethod, _ path: String, token: String?, body: String? = nil, headers: [String: String] = [:]
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await Harness.client.execute(request, timeout: Self.deadline)
        let buffer = try await response.body.collect(upTo: 10 << 20)
        let json = try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any]
        return Reply(status: Int(response.status.code), json: json, headers: response.headers)
    }

    /// A POST of `body` as JSON, the token as a bearer token or (`asAPIKey`, as Anthropic's SDKs send it) as
    /// `x-api-key`: the status, headers and body as text, for streamed answers and other APIs' shapes.
    func post(
        _ path: String, token: String, asAPIKey: Bool = false, headers: [String: String] = [:], json body: [String: Any]
    ) async throws -> (status: Int, headers: HTTPHeaders, text: String) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = .POST
        request.headers.add(name: asAPIKey ? "x-api-key" : "Authorization", value: asAPIKey ? token : "Bearer \(token)")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        let response = try await Harness.client.execute(request, timeout: Self.deadline)
        return (Int(response.status.code), response.headers, String(buffer: try await response.body.collect(upTo: 10 << 20)))
    }

    /// How long a request may take before the test fails: only a hung server reaches it. The whole suite starts its
    /// tests at once on two cores, where a quick request has been seen to miss the old 5–30 s deadlines.
    static let deadline = TimeAmount.seconds(60)

    /// The body of a GET as text (for non-JSON endpoints such as /metrics).
    func text(_ path: String, token: String? = nil) async throws -> String {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let response = try await Harness.client.execute(request, timeout: Self.deadline)
        return String(buffer: try await response.body.collect(upTo: 10 << 20))
    }

    /// A GET's status, `Content-Type` and body bytes (an image, a download).
    func bytes(_ path: String, token: String) async throws -> (status: Int, contentType: String?, body: [UInt8]) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        let response = try await Harness.client.execute(request, timeout: Self.deadline)
        let body = try await response.body.collect(upTo: 32 << 20)
        return (Int(response.status.code), response.headers.first(name: "Content-Type"), Array(body.readableBytesView))
    }

    /// The simulator's counts (`GET /stats`): streams started, completed, abandoned; embeddings calls answered.
    func simulatorStats() async throws -> [String: Any] {
        let response = try await Harness.client.execute(
            HTTPClientRequest(url: "http://127.0.0.1:\(simulatorPort)/stats"), timeout: Self.deadline)
        let buffer = try await response.body.collect(upTo: 1 << 20)
        return (try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any]) ?? [:]
    }

    /// The body of the latest chat completion request the simulator received (`GET /last-request`): what went upstream.
    func simulatorLastRequest() async throws -> String {
        let response = try await Harness.client.execute(
            HTTPClientRequest(url: "http://127.0.0.1:\(simulatorPort)/last-request"), timeout: Self.deadline)
        return String(buffer: try await response.body.collect(upTo: 32 << 20))
    }

    /// Creates a conversation for `token` and returns its id.
    func newConversation(_ token: String, body: String = "{}") async throws -> String {
        let reply = try await request(.POST, "/api/conversations", token: token, body: body)
        guard reply.status == 201, let id = reply.json?["id"] as? String else {
            throw HarnessError("could not create a conversation: \(reply.status)")
        }
        return id
    }

    /// One streamed turn as the client saw it.
    struct Turn {
        let status: Int
        let contentType: String?
        let headers: HTTPHeaders
        let events: [ServerSentEvent]
        let arrivals: [ContinuousClock.Instant]
        let body: String

        var names: [String] { events.map { $0.event ?? "message" } }
        var tokens: [String] { events.filter { $0.event == "token" }.compactMap { Self.field($0, "token") as? String } }
        var text: String { tokens.joined() }
        var last: ServerSentEvent? { events.last }
        var meta: [String: Any]? { events.first { $0.event == "meta" }.flatMap(Self.object) }
        var assistantID: String? { meta?["assistant_message_id"] as? String }
        var final: [String: Any]? { last.flatMap(Self.object) }

        static func object(_ event: ServerSentEvent) -> [String: Any]? {
            try? JSONSerialization.jsonObject(with: Data(event.data.utf8)) as? [String: Any]
        }
        static func field(_ event: ServerSentEvent, _ key: String) -> Any? { object(event)?[key] }
    }

    /// Reads any event-stream endpoint to its end.
    func stream(
        _ path: String, token: String, method: HTTPMethod = .GET, body: String? = nil, headers: [String: String] = [:],
        onEvent: @Sendable (ServerSentEvent, Int) async throws -> Bool = { _, _ in true }
    ) async throws -> Turn {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        return try await read(try await Harness.client.execute(request, timeout: .seconds(60)), onEvent: onEvent)
    }

    /// Sends a message and reads the event stream to its end. `onEvent` may return false to hang up early.
    func send(
        _ conversationID: String, token: String, body: String = "{\"content\":\"Hello there\"}",
        scenario: String? = nil, headers: [String: String] = [:],
        onEvent: @Sendable (ServerSentEvent, Int) async throws -> Bool = { _, _ in true }
    ) async throws -> Turn {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/conversations/\(conversationID)/messages")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        if let scenario { request.headers.add(name: "X-Sluice-Scenario", value: scenario) }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: body))
        return try await read(try await Harness.client.execute(request, timeout: .seconds(60)), onEvent: onEvent)
    }

    private func read(
        _ response: HTTPClientResponse, onEvent: @Sendable (ServerSentEvent, Int) async throws -> Bool
    ) async throws -> Turn {
        var parser = SSEParser()
        var events: [ServerSentEvent] = []
        var arrivals: [ContinuousClock.Instant] = []
        var raw = ""
        reading: for try await buffer in response.body {
            raw += String(buffer: buffer)
            for event in parser.feed(buffer.readableBytesView) {
                events.append(event)
                arrivals.append(.now)
                if try await !onEvent(event, events.count) { break reading }
            }
        }
        return Turn(
            status: Int(response.status.code), contentType: response.headers.first(name: "Content-Type"),
            headers: response.headers, events: events, arrivals: arrivals, body: raw)
    }

    /// Lets the simulator send `count` more tokens of the request carrying `X-Sluice-Gate: key`.
    func releaseGate(_ key: String, count: Int = 1) async throws {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(simulatorPort)/v1/gates/\(key)?count=\(count)")
        request.method = .POST
        _ = try await Harness.client.execute(request, timeout: .seconds(10)).body.collect(upTo: 1024)
    }

    /// The stored assistant message of a turn.
    func answer(_ turn: Turn) async throws -> Message {
        guard let id = turn.assistantID, let message = try await store.message(id: id) else {
            throw HarnessError("the turn's assistant message is not stored")
        }
        return message
    }

    /// Waits until the stored message leaves `streaming` (the server finishes a turn after the client left).
    func settledMessage(_ id: String) async throws -> Message {
        for _ in 0..<3000 {  // up to 30 s: generous for a loaded CI machine, still bounded
            if let message = try await store.message(id: id), message.status != .streaming { return message }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw HarnessError("message \(id) stayed streaming")
    }
}

/// A `Sleeper` that returns at once and remembers every wait asked of it.
final class RecordingSleeper: Sleeper {
    private let recorded = Mutex<[Duration]>([])
    var waits: [Duration] { recorded.withLock { $0 } }
    func sleep(for duration: Duration) async throws {
        recorded.withLock { $0.append(duration) }
        try Task.checkCancellation()
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Counts whitespace-separated words: with OpenAI's chat rule (3 per message, role, 3 for the reply) this is
/// exactly how the simulator computes `prompt_tokens` (3 + 4 per message + words), and every simulated
/// token is one word, so Sluice's count and the simulator's report agree.
struct WordTokenizer: Tokenizer {
    func encode(_ text: String) -> [Int] { Self.words(text).map(\.count) }
    func count(_ text: String) -> Int { Self.words(text).count }
    private static func words(_ text: String) -> [Substring] { text.split(whereSeparator: { $0.isWhitespace }) }
}
