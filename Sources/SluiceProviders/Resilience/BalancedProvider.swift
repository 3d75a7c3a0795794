import SluiceCore
import Synchronization

/// One model served by several deployments — replicas of the same weights behind different URLs, each behind its own
/// circuit breaker and queue — as LiteLLM's router serves a `model_name` listed more than once. Each call goes to
/// the least busy deployment (answers running and waiting for its slots, against its concurrency) whose breaker is
/// closed, taking turns among equally busy ones; a deployment that fails before the call has passed on any of the
/// answer (unreachable, 5xx, 429, its queue full, its breaker open) hands the call to the next, so a replica that
/// goes down costs no turn. A mistake in the request (another 4xx) would fail on every deployment: it is not retried.
public struct BalancedProvider: ChatProvider {
    /// One deployment: its provider already behind its breaker and queue.
    public struct Deployment: Sendable {
        public let name: String
        public let provider: any ChatProvider
        public let limiter: ConcurrencyLimiter
        public let breaker: CircuitBreaker?

        public init(name: String, provider: any ChatProvider, limiter: ConcurrencyLimiter, breaker: CircuitBreaker?) {
            self.name = name
            self.provider = provider
            self.limiter = limiter
            self.breaker = breaker
        }

        /// Answers running and waiting per slot: 0 idle, 1 every slot taken, more with a queue.
        var busy: Double {
            let load = limiter.load
            return Double(load.running + load.waiting) / Double(limiter.maxConcurrent)
        }

        var isOpen: Bool { breaker?.current == .open }
    }

    public let deployments: [Deployment]
    /// Where the next call starts looking, so that equally busy deployments take turns.
    private let rotation: Rotation

    public init(_ deployments: [Deployment]) {
        precondition(!deployments.isEmpty, "a balanced model needs a deployment")
        self.deployments = deployments
        rotation = Rotation()
    }

    /// The deployments in the order a call tries them: closed breakers first, then the least busy, then turn by turn.
    public func order() -> [Deployment] {
        let start = rotation.next()
        let rotated = deployments.indices.map { deployments[(start % deployments.count + $0) % deployments.count] }
        let ranked = rotated.enumerated().map { (index: $0.offset, open: $0.element.isOpen, busy: $0.element.busy, deployment: $0.element) }
        return ranked.sorted { a, b in
            if a.open != b.open { return !a.open }
            if a.busy != b.busy { return a.busy < b.busy }
            return a.index < b.index
        }.map(\.deployment)
    }

    public func streamChat(_ request: ChatRequest) -> ProviderStream {
        balanced { $0.streamChat(request) }
    }

    /// A text completion from the least busy deployment, handed on as a chat call is.
    public func streamText(_ request: TextCompletionRequest) -> ProviderStream {
        balanced { $0.streamText(request) }
    }

    /// The call `open` makes of a deployment's provider, tried on each deployment in `order()` until one answers.
    private func balanced(_ open: @escaping @Sendable (any ChatProvider) -> ProviderStream) -> ProviderStream {
        let candidates = order()
        return ProviderStream {
            var untried = candidates[...]
            var current: ProviderStream.Iterator?
            /// Whether any of the answer (not only queue news) went to the caller: from then on the call stays.
            var answered = false
            return .init {
                while true {
                    if current == nil {
                        guard let next = untried.popFirst() else { return nil }
                        current = open(next.provider).makeAsyncIterator()
                    }
                    do {
                        let event = try await current?.next()
                        switch event {
                        case .queued?, .leftQueue?, nil: break
                        default: answered = true
                        }
                        return event
                    } catch {
                        guard !answered, !untried.isEmpty, !Task.isCancelled, Self.anotherMayAnswer(after: error) else { throw error }
                        current = nil
                    }
                }
            }
        }
    }

    /// A JSON call (embeddings, rerank) to the least busy deployment, the next one trying when it fails for a reason
    /// of its own.
    public func send(_ call: UpstreamJSONCall) async throws -> [UInt8] {
        var untried = order()[...]
        while let next = untried.popFirst() {
            do {
                return try await next.provider.send(call)
            } catch {
                guard !untried.isEmpty, !Task.isCancelled, Self.anotherMayAnswer(after: error) else { throw error }
            }
        }
        throw CancellationError()
    }

    /// Whether a failure says something about the deployment rather than the request: then another may answer.
    static func anotherMayAnswer(after error: any Error) -> Bool {
        if error is CancellationError { return false }
        if case .circuitOpen? = error as? ProviderError { return true }
        return CircuitBreaker.countsAsFailure(error) == true
    }

    /// Ready when any deployment is: the others are tried around.
    public func checkReady() async throws {
        try await readiness(named: "").requireAnyReady()
    }

    /// Every deployment under its own name (`model@host:port`), checked at once.
    public func readiness(named name: String) async -> [UpstreamReadiness] {
        await withTaskGroup(of: [UpstreamReadiness].self) { group in
            for deployment in deployments {
                group.addTask { await deployment.provider.readiness(named: deployment.name) }
            }
            return await group.reduce(into: []) { $0 += $1 }.sorted { $0.name < $1.name }
        }
    }

    /// A counter shared by copies of the provider.
    private final class Rotation: Sendable {
        private let counter = Atomic<Int>(0)

        func next() -> Int { counter.wrappingAdd(1, ordering: .relaxed).oldValue & Int.max }
    }
}
