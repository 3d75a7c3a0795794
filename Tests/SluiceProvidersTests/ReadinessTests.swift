import SluiceCore
import SluiceProviders
import Testing

/// What `/readyz` learns of the upstreams: every model and deployment by name, with its breaker, and a router that
/// stays ready while any of its models' upstreams answers.
struct ReadinessTests {
    /// An upstream whose readiness check fails when it is down.
    struct CheckedUpstream: ChatProvider {
        let down: Bool

        func streamChat(_ request: ChatRequest) -> ProviderStream { .failing(ProviderError.connection("unused")) }

        func checkReady() async throws {
            if down { throw ProviderError.connection("connection refused") }
        }
    }

    static func deployment(_ name: String, down: Bool, breaker: CircuitBreaker? = nil) -> BalancedProvider.Deployment {
        let limiter = ConcurrencyLimiter(name: name, maxConcurrent: 4, queueCapacity: 4)
        let upstream = CheckedUpstream(down: down)
        let guarded: any ChatProvider = breaker.map { CircuitBreakingProvider(upstream, breaker: $0) } ?? upstream
        return .init(name: name, provider: QueuedProvider(guarded, limiter: limiter), limiter: limiter, breaker: breaker)
    }

    @Test func everyModelAndDeploymentIsListedWithItsBreakerAndOneDownModelLeavesTheRouterReady() async throws {
        let opened = CircuitBreaker(name: "beta", policy: CircuitBreakerPolicy(consecutiveFailures: 2, cooldown: .seconds(60)))
        opened.record(failure: true)
        opened.record(failure: true)
        #expect(opened.current == .open)
        let beta = Self.deployment("beta", down: true, breaker: opened)
        let alpha = Self.deployment("alpha", down: false, breaker: CircuitBreaker(name: "alpha"))
        let gamma = BalancedProvider([
            Self.deployment("gamma@10.0.0.2:8000", down: true), Self.deployment("gamma@10.0.0.1:8000", down: false),
        ])
        let router = ModelRouter(
            routes: [
                "beta": .init(provider: beta.provider, limiter: beta.limiter),
                "alpha": .init(provider: alpha.provider, limiter: alpha.limiter), "gamma": .init(provider: gamma),
            ],
            defaultProvider: CheckedUpstream(down: false))

        let upstreams = await router.readiness(named: "sim")
        #expect(upstreams.map(\.name) == ["alpha", "beta", "gamma@10.0.0.1:8000", "gamma@10.0.0.2:8000", "sim"])
        #expect(upstreams.map(\.isReady) == [true, false, true, false, true])
        #expect(upstreams.map(\.circuit) == ["closed", "open", nil, nil, nil])
        #expect(upstreams[1].problem?.contains("connection refused") == true)
        // One model down takes that model out, not the instance.
        try await router.checkReady()
        try await gamma.checkReady()

        // The default upstream under a configured model's name is listed apart from that model.
        let named = await router.readiness(named: "alpha")
        #expect(named.map(\.name) == ["(other models)", "alpha", "beta", "gamma@10.0.0.1:8000", "gamma@10.0.0.2:8000"])
    }

    @Test func aRouterWithEveryUpstreamDownIsNotReady() async throws {
        let router = ModelRouter(routes: [
            "a": .init(provider: CheckedUpstream(down: true)),
            "b": .init(provider: BalancedProvider([Self.deployment("b@x", down: true), Self.deployment("b@y", down: true)])),
        ])
        #expect(await router.readiness(named: "a").allSatisfy { !$0.isReady })
        await #expect(throws: ProviderError.self) { try await router.checkReady() }
        await #expect(throws: ProviderError.self) {
            try await BalancedProvider([Self.deployment("c@x", down: true)]).checkReady()
        }
    }
}
