import Foundation
import SluiceCore
import SluiceServer
import SluiceSimulator
import Testing

@Suite("Upstream faults reach the client as clear errors and lose nothing")
struct FaultTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let scenario: String
        let code: String
        let retryable: Bool
        let partial: Bool
        var waits: [Int] = []
        var retries: Int { waits.count }
        var testDescription: String { scenario }
    }

    static let beforeFirstToken: [Case] = [
        // Retry-After: 1 is honoured exactly; without it the back-off doubles (1, 2, 4, … s; 2, 4, … s for 503)
        // until the next wait would take the total past 60 s.
        Case(scenario: "429", code: "rate_limited", retryable: true, partial: false, waits: [1, 1, 1, 1, 1]),
        Case(scenario: "429-bare", code: "rate_limited", retryable: true, partial: false, waits: [1, 2, 4, 8, 16]),
        Case(scenario: "500", code: "upstream_error", retryable: true, partial: false, waits: [1, 2, 4, 8, 16]),
        Case(scenario: "502", code: "upstream_error", retryable: true, partial: false, waits: [1, 2, 4, 8, 16]),
        Case(scenario: "504", code: "upstream_error", retryable: true, partial: false, waits: [1, 2, 4, 8, 16]),
        Case(scenario: "503", code: "upstream_unavailable", retryable: true, partial: false, waits: [2, 4, 8, 16]),
        Case(scenario: "529", code: "upstream_unavailable", retryable: true, partial: false, waits: [2, 4, 8, 16]),
        Case(scenario: "400", code: "upstream_rejected", retryable: false, partial: false),
        Case(scenario: "401", code: "upstream_auth", retryable: false, partial: false),
        Case(scenario: "403", code: "upstream_auth", retryable: false, partial: false),
    ]

    @Test("an HTTP error that persists ends the stream with an error event after the retries; the user message is kept",
          arguments: beforeFirstToken)
    func httpErrors(_ fault: Case) async throws {
        try await Harness.run { h in
            let conversation = try await h.newConversation(h.alice)
            let turn = try await h.send(conversation, token: h.alice, scenario: fault.scenario)
            #expect(turn.names == ["meta"] + Array(repeating: "status", count: fault.retries) + ["error"])
            #expect(h.sleeper.waits == fault.waits.map { .seconds($0) })
            let statuses = turn.events.filter { $0.event == "status" }.compactMap(Harness.Turn.object)
            #expect(statuses.map { $0["attempt"] as? Int } == (0..<fault.retries).map { $0 + 1 })
            #expect(statuses.map { $0["wait_ms"] as? Int } == fault.waits.map { $0 * 1000 })
            #expect(statuses.allSatisfy { $0["state"] as? String == "retrying" && $0["max_attempts"] as? Int == 5 })
            let error = try #require(turn.final)
            #expect(error["code"] as? String == fault.code)
            #expect(error["retryable"] as? Bool == fault.retryable)
            #expect(error["partial"] as? Bool == false)
            let message = try #require(error["message"] as? String)
            #expect(message.count > 20)
            #expect(!message.contains("sk-test-secret"))
            let stored = try await h.store.messages(conversationID: conversation)
            #expect(stored.map(\.role) == [.user, .assistant])
            #expect(stored[0].content == "Hello there")
            #expect(stored[1].status == .error)
            #expect(stored[1].error == message)
            // Every attempt is counted by the upstream's status, the turn once by its error code.
            let metrics = try await h.text("/metrics")
            let status = fault.scenario.split(separator: "-")[0]
            #expect(MetricsTests.sample(metrics, "sluice_upstream_errors_total{status=\"\(status)\"}") == Double(fault.retries + 1))
            #expect(MetricsTests.sample(metrics, "sluice_turn_errors_total{code=\"\(fault.code)\"}") == 1)
            #expect(MetricsTests.sample(metrics, "sluice_retries_total{reason=\"\(Self.reason[String(status)] ?? "-")\"}")
                == (fault.retries > 0 ? Double(fault.retries) : nil))
        }
    }

    static let midStream: [Case] = [
        Case(scenario: "reset-mid", code: "upstream_disconnected", retryable: true, partial: true),
        Case(scenario: "error-mid", code: "upstream_error", retryable: true, partial: true),
        Case(scenario: "malformed", code: "upstream_protocol", retryable: true, partial: true),
    ]

    /// The `reason` a retry of each status is counted under.
    static let reason = ["429": "rate_limited", "500": "server_error", "502": "server_error", "504": "server_error",
                         "503": "overloaded", "529": "overloaded"]

    @Test("a failure mid-stream keeps the partial answer, stored as partial, and says partial: true",
          arguments: midStream)
    func midStreamFailures(_ fault: Case) async throws {
        try await Harness.run { h in
            let conversation = try await h.newConversation(h.alice)
            let turn = try await h.send(conversation, token: h.alice, scenario: fault.scenario)
            // A reset may drop the bytes still in flight, as a real RST does: up to 12 tokens arrive.
            let received = turn.tokens.count
            #expect(fault.scenario == "reset-mid" ? (1...12).contains(received) : received == 12)
            #expect(turn.names == ["meta"] + Array(repeating: "token", count: received) + ["error"])
            let error = try #require(turn.final)
            #expect(error["code"] as? String == fault.code)
            #expect(error["partial"] as? Bool == true)
            let stored = try await h.answer(turn)
            #expect(stored.status == .partial)
            #expect(stored.content == SimulatedText.answer(tokens: received))
            #expect(stored.content == turn.text)
            let metrics = try await h.text("/metrics")
            let kind = ["reset-mid": "connection", "error-mid": "stream_error", "malformed": "malformed"][fault.scenario]!
            #expect(MetricsTests.sample(metrics, "sluice_upstream_errors_total{status=\"\(kind)\"}") == 1)
            #expect(MetricsTests.sample(metrics, "sluice_turn_errors_total{code=\"\(fault.code)\"}") == 1)
            #expect(MetricsTests.sample(metrics, #"sluice_turns_total{model="sim",outcome="partial"}"#) == 1)
        }
    }

    @Test("a stall before the first token times out with upstream_timeout, not partial")
    func stallBeforeFirstToken() async throws {
        try await Harness.run(turn: TurnSettings(firstTokenTimeout: .milliseconds(300), idleTimeout: .seconds(10))) { h in
            let conversation = try await h.newConversation(h.alice)
            let turn = try await h.send(conversation, token: h.alice, scenario: "stall-first", headers: ["X-Sluice-Stall-Ms": "20000"])
            #expect(turn.names == ["meta", "error"])
            #expect(turn.final?["code"] as? String == "upstream_timeout")
            #expect(turn.final?["partial"] as? Bool == false)
            #expect(turn.final?["retryable"] as? Bool == true)
            #expect(try await h.answer(turn).status == .error)
            let metrics = try await h.text("/metrics")
            #expect(MetricsTests.sample(metrics, #"sluice_upstream_errors_total{status="first_token_timeout"}"#) == 1)
            #expect(MetricsTests.sample(metrics, #"sluice_turn_errors_total{code="upstream_timeout"}"#) == 1)
        }
    }

    @Test("a stall mid-stream times out and keeps what arrived")
    func stallMidStream() async throws {
        try await Harness.run(turn: TurnSettings(firstTokenTimeout: .seconds(10), idleTimeout: .seconds(1))) { h in
            let conversation = try await h.newConversation(h.alice)
            let turn = try await h.send(conversation, token: h.alice, scenario: "stall-mid", headers: ["X-Sluice-Stall-Ms": "20000"])
            #expect(turn.last?.event == "error")
            #expect(turn.final?["code"] as? String == "upstream_timeout")
            #expect(turn.final?["partial"] as? Bool == true)
            // The stall starts after 12 tokens; on a loaded machine the idle timer may only ever see fewer.
            let received = turn.tokens.count
            #expect((1...12).contains(received))
            let stored = try await h.answer(turn)
            #expect(stored.status == .partial)
            #expect(stored.content == SimulatedText.answer(tokens: received))
            #expect(stored.content == turn.text)
        }
    }

    @Test("an answer that runs past the total timeout is cut; the text so far is stored as partial")
    func totalTimeout() async throws {
        try await Harness.run(
            simulator: SimulatorSettings(tokens: 24, delay: .zero),
            // 12 s: the cap counts from the turn's start, and on a loaded machine (the whole suite, a thousand-turn
            // test among it, runs in parallel on two cores) setting a turn up can take seconds.
            turn: TurnSettings(firstTokenTimeout: .seconds(30), idleTimeout: .seconds(30), totalTimeout: .seconds(12))
        ) { h in
            let conversation = try await h.newConversation(h.alice)
            // The simulator sends a token only when released: three are, then the answer waits until the cap.
            let gate = UUID().uuidString
            let turn = try await h.send(conversation, token: h.alice, headers: ["X-Sluice-Gate": gate]) { event, _ in
                if event.event == "meta" { try await h.releaseGate(gate) }
                if event.event == "token", let id = event.id, let seq = Int(id.split(separator: ":").last ?? ""), seq < 3 {
                    try await h.releaseGate(gate)
                }
                return true
            }
            #expect(turn.last?.event == "error")
            #expect(turn.final?["code"] as? String == "upstream_timeout")
            #expect(turn.final?["partial"] as? Bool == true)
            #expect((turn.final?["message"] as? String)?.contains("12 s Sluice allows") == true)
            // Three tokens are released; on a loaded machine the cap may come before the third arrives.
            let received = turn.tokens.count
            #expect((1...3).contains(received))
            // Let the simulator's held stream finish, so that it can shut down.
            for _ in 0..<24 { try await h.releaseGate(gate) }
            let stored = try await h.answer(turn)
            #expect(stored.status == .partial && stored.content == turn.text)
        }
    }

    @Test("an upstream that is not listening gives upstream_unreachable")
    func unreachable() async throws {
        let closedPort = try ClosedPort()
        try await Harness.run(upstreamOverride: "http://127.0.0.1:\(closedPort.port)/v1") { h in
            let conversation = try await h.newConversation(h.alice)
            let turn = try await h.send(conversation, token: h.alice)
            #expect(turn.names == ["meta"] + Array(repeating: "status", count: 5) + ["error"])
            #expect(turn.final?["code"] as? String == "upstream_unreachable")
            #expect((turn.final?["message"] as? String)?.contains("tried 6 times") == true)
            let ready = try await h.request(.GET, "/readyz", token: nil)
            #expect(ready.status == 503 && ready.json?["status"] as? String == "not_ready")
            let upstream = try #require((ready.json?["upstreams"] as? [[String: Any]])?.first)
            #expect(upstream["ready"] as? Bool == false && upstream["problem"] is String)
            #expect((ready.json?["problems"] as? [String])?.first?.hasPrefix("upstream ") == true)
        }
        withExtendedLifetime(closedPort) {}
    }

    @Test("a long stall with a quiet stream sends ': ping' comments to keep the connection open")
    func pings() async throws {
        try await Harness.run(
            simulator: SimulatorSettings(tokens: 4, delay: .zero, stall: .milliseconds(700)),
            // Timeouts far above the stall, so that a loaded machine cannot turn the stall into a timeout.
            turn: TurnSettings(firstTokenTimeout: .seconds(60), idleTimeout: .seconds(60), pingInterval: .milliseconds(200))
        ) { h in
            let conversation = try await h.newConversation(h.alice)
            let turn = try await h.send(conversation, token: h.alice, scenario: "stall-first")
            #expect(turn.body.contains(": ping\n\n"))
            #expect(turn.last?.event == "done")
            #expect(turn.text == SimulatedText.answer(tokens: 4))
        }
    }
}
