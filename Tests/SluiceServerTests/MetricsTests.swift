import Foundation
import SluiceCore
import SluiceServer
import Testing

@Suite("Metrics")
struct MetricsTests {
    /// The value of one sample line (`name{labels} value`) of a Prometheus exposition.
    static func sample(_ text: String, _ prefix: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(prefix + " ") }.flatMap { Double($0.split(separator: " ").last!) }
    }

    @Test("/metrics counts turns by outcome, retries, upstream errors, tokens and TTFT")
    func counters() async throws {
        try await Harness.run { h in
            let conversation = try await h.newConversation(h.alice)
            _ = try await h.send(conversation, token: h.alice)
            _ = try await h.send(conversation, token: h.alice, body: "{\"content\":\"again\"}", scenario: "429x1")
            _ = try await h.send(conversation, token: h.alice, scenario: "401")
            let text = try await h.text("/metrics")
            #expect(Self.sample(text, #"sluice_turns_total{model="sim",outcome="complete"}"#) == 2)
            #expect(Self.sample(text, #"sluice_turns_total{model="sim",outcome="error"}"#) == 1)
            #expect(Self.sample(text, #"sluice_retries_total{reason="rate_limited"}"#) == 1)
            #expect(Self.sample(text, #"sluice_upstream_errors_total{status="429"}"#) == 1)
            #expect(Self.sample(text, #"sluice_upstream_errors_total{status="401"}"#) == 1)
            #expect(Self.sample(text, "sluice_rate_limited_total") == 1)
            #expect(Self.sample(text, "sluice_upstream_auth_failures_total") == 1)
            #expect(Self.sample(text, #"sluice_turn_errors_total{code="upstream_auth"}"#) == 1)
            #expect(Self.sample(text, #"sluice_output_tokens_total{model="sim"}"#) == 48)
            #expect(Self.sample(text, #"sluice_ttft_seconds_count{model="sim"}"#) == 2)
            #expect(Self.sample(text, "sluice_active_generations") == 0)
            #expect(!text.contains("sk-test-secret"))
        }
    }

    @Test("a model name the operator did not configure or price is counted as other, so users cannot mint series")
    func unknownModelsShareOneLabel() async throws {
        let metrics = SluiceMetrics(knownModels: { $0 == "sim" })
        try await Harness.run(metrics: metrics) { h in
            for model in ["sim", "made-up-1", "made-up-2"] {
                let conversation = try await h.newConversation(h.alice, body: "{\"model\":\"\(model)\"}")
                _ = try await h.send(conversation, token: h.alice)
            }
            let text = try await h.text("/metrics")
            #expect(Self.sample(text, #"sluice_turns_total{model="sim",outcome="complete"}"#) == 1)
            #expect(Self.sample(text, #"sluice_turns_total{model="other",outcome="complete"}"#) == 2)
            #expect(!text.contains("made-up"))
        }
    }
}
