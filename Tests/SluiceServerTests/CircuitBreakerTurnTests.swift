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

    @Test("an upstream that stays silent past the first-token timeout counts as failing: the breaker opens on it")
    func silentUpstreamOpensTheBreaker() async throws {
        let breaker = CircuitBreaker(name: "sim", policy: CircuitBreakerPolicy(consecutiveFailures: 2, cooldown: .seconds(30)))
        let settings = TurnSettings(
            firstTokenTimeout: .milliseconds(200), idleTimeout: .seconds(60), retryPolicy: RetryPolicy(maxRetries: 0, jitter: 0))
        try await Harness.run(turn: settings, breaker: breaker) { h in
            let conversation = try await h.newConversation(h.alice)
            for expected in [CircuitState.closed, .open] {
                let silent = try await h.send(conversation, token: h.alice, scenario: "stall-first")
                #expect(silent.final?["code"] as? String == "upstream_timeout")
                #expect(breaker.current == expected)
            }
            // The next turn is refused at once instead of waiting out another timeout.
            let refused = try await h.send(conversation, token: h.alice, scenario: "ok")
            #expect(refused.final?["code"] as? String == "upstream_unavailable")
        }
    }

    @Test("a turn its user cancels before the first token says nothing about the upstream's health")
    func cancelledTurnIsNoVerdict() async throws {
        let breaker = CircuitBreaker(name: "sim", policy: CircuitBreakerPolicy(consecutiveFailures: 1, cooldown: .seconds(30)))
        try await Harness.run(breaker: breaker) { h in
            let conversation = try await h.newConversation(h.alice)
            let turn = try await h.send(conversation, token: h.alice, scenario: "stall-first") { event, _ in
                if event.event == "meta", let id = Harness.Turn.object(event)?["assistant_message_id"] as? String {
                    let cancelled = try await h.request(.POST, "/api/messages/\(id)/cancel", token: h.alice)
                    #expect(cancelled.status == 202)
                }
                return true
            }
            #expect(turn.final?["finish_reason"] as? String == "cancelled")
            #expect(breaker.current == .closed)
        }
    }
}
