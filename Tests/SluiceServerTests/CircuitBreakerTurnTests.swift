import Foundation
import SluiceCore
import SluiceProviders
import SluiceServer
import Testing

@Suite("Circuit breaker on real turns")
struct CircuitBreakerTurnTests {
    @Test("after two failed turns the breaker opens: the next turn is refused at once; after the cooldown a probe closes it")
    func opensAndRecovers() async throws {
        let clock = ManualClock()
        let metrics = SluiceMetrics()
        let breaker = CircuitBreaker(
            name: "sim", policy: CircuitBreakerPolicy(consecutiveFailures: 2, cooldown: .seconds(30)), now: { clock.now },
            onChange: { metrics.setCircuitState(upstream: "sim", state: $0.rawValue) })
        let noRetries = TurnSettings(
            firstTokenTimeout: .seconds(60), idleTimeout: .seconds(60), retryPolicy: RetryPolicy(maxRetries: 0, jitter: 0))
        try await Harness.run(turn: noRetries, breaker: breaker, metrics: metrics) { h in
            let conversation = try await h.newConversation(h.alice)
            for _ in 0..<2 {
                let failed = try await h.send(conversation, token: h.alice, scenario: "500")
                #expect(failed.final?["code"] as? String == "upstream_error")
            }
            #expect(breaker.current == .open)
            var metricsText = try await h.text("/metrics")
            #expect(MetricsTests.sample(metricsText, #"sluice_circuit_state{upstream="sim"}"#) == 1)

            // Refused without calling the upstream, even though it would now answer.
            let refused = try await h.send(conversation, token: h.alice, scenario: "ok")
            #expect(refused.final?["code"] as? String == "upstream_unavailable")
            #expect((refused.final?["message"] as? String)?.contains("giving it 30 s to recover") == true)
            metricsText = try await h.text("/metrics")
            #expect(MetricsTests.sample(metricsText, #"sluice_upstream_errors_total{status="circuit_open"}"#) == 1)
            #expect(MetricsTests.sample(metricsText, #"sluice_upstream_errors_total{status="500"}"#) == 2)

            clock.advance(.seconds(30))
            let probe = try await h.send(conversation, token: h.alice, scenario: "ok")
            #expect(probe.names.last == "done")
            #expect(breaker.current == .closed)
            metricsText = try await h.text("/metrics")
            #expect(MetricsTests.sample(metricsText, #"sluice_circuit_state{upstream="sim"}"#) == 0)
        }
    }
}
