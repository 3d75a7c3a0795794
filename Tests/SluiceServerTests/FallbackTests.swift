import Foundation
import SluiceCore
import SluiceProviders
import SluiceServer
import SluiceSimulator
import Testing

/// Model names pick the simulator's behaviour (`sim-500` always fails with 500), so a fallback chain can be
/// driven through one simulator.
@Suite("Fallback models")
struct FallbackTests {
    static let oneRetry = TurnSettings(
        firstTokenTimeout: .seconds(60), idleTimeout: .seconds(60), retryPolicy: RetryPolicy(maxRetries: 1, jitter: 0))

    @Test("a model that fails before its first token hands over down its chain; the client is told; done names who answered")
    func walksTheChain() async throws {
        let metrics = SluiceMetrics()
        try await Harness.run(turn: Self.oneRetry, metrics: metrics, fallbacks: ["sim-500": ["sim-503", "sim"]]) { h in
            let conversation = try await h.newConversation(h.alice, body: #"{"model":"sim-500"}"#)
            let turn = try await h.send(conversation, token: h.alice)
            let statuses = turn.events.filter { $0.event == "status" }.compactMap(Harness.Turn.object)
            #expect(statuses.map { $0["state"] as? String } == ["retrying", "fallback", "retrying", "fallback"])
            #expect(statuses[1]["from"] as? String == "sim-500" && statuses[1]["to"] as? String == "sim-503")
            #expect(statuses[3]["from"] as? String == "sim-503" && statuses[3]["to"] as? String == "sim")
            #expect(turn.names.last == "done")
            #expect(turn.final?["model"] as? String == "sim")
            #expect(turn.text == SimulatedText.answer(tokens: 24))
            let stored = try await h.answer(turn)
            #expect(stored.model == "sim" && stored.status == .complete)
            let text = try await h.text("/metrics")
            #expect(MetricsTests.sample(text, #"sluice_fallbacks_total{from="sim-500",to="sim-503"}"#) == 1)
            #expect(MetricsTests.sample(text, #"sluice_turns_total{model="sim",outcome="complete"}"#) == 1)
        }
    }

    @Test("when every model of the chain fails, the last error is the answer")
    func everyModelFails() async throws {
        try await Harness.run(turn: Self.oneRetry, fallbacks: ["sim-500": ["sim-502"]]) { h in
            let conversation = try await h.newConversation(h.alice, body: #"{"model":"sim-500"}"#)
            let turn = try await h.send(conversation, token: h.alice)
            #expect(turn.names.last == "error")
            #expect(turn.final?["code"] as? String == "upstream_error")
            #expect(turn.events.filter { $0.event == "status" }.count == 3)
            #expect(try await h.answer(turn).status == .error)
        }
    }

    @Test("once text is on the screen there is no silent switch to another model")
    func noFallbackAfterText() async throws {
        try await Harness.run(turn: Self.oneRetry, fallbacks: ["sim-reset-mid": ["sim"]]) { h in
            let conversation = try await h.newConversation(h.alice, body: #"{"model":"sim-reset-mid"}"#)
            let turn = try await h.send(conversation, token: h.alice)
            #expect(!turn.events.contains { $0.event == "status" })
            #expect(turn.names.last == "error")
            #expect(turn.final?["partial"] as? Bool == true)
        }
    }

    @Test("the router sends each model to its own provider, follows fallback chains without loops, and names unknown models")
    func router() async throws {
        let router = ModelRouter(routes: [
            "a": .init(provider: ModelRouter(routes: [:]), fallbacks: ["b", "a"]),
            "b": .init(provider: ModelRouter(routes: [:]), fallbacks: ["c", "a"]),
            "c": .init(provider: ModelRouter(routes: [:]), fallbacks: []),
        ])
        #expect(router.fallbackChain(for: "a") == ["b", "c"])
        #expect(router.fallbackChain(for: "c") == [])
        var failure: (any Error)?
        do { for try await _ in router.streamChat(ChatRequest(model: "zed", messages: [])) {} } catch { failure = error }
        #expect(failure as? ProviderError == .http(status: 404, message: "Sluice has no model named zed; configured: a, b, c", retryAfter: nil))
    }
}

extension FallbackTests {
    @Test("when every model fails, the earlier answer to the identical temperature-0 request is served, marked cached and free")
    func cachedAnswer() async throws {
        let noRetries = TurnSettings(
            firstTokenTimeout: .seconds(60), idleTimeout: .seconds(60), retryPolicy: RetryPolicy(maxRetries: 0, jitter: 0))
        var priced = ModelCatalog()
        priced.setPrice("sim", ModelPrice(inputPerMillion: "1.00", outputPerMillion: "2.00")!)
        try await Harness.run(turn: noRetries, budgets: true, catalog: priced) { h in
            let question = #"{"content":"What is two plus two?","temperature":0}"#
            let first = try await h.send(try await h.newConversation(h.alice), token: h.alice, body: question)
            #expect(first.names.last == "done" && first.final?["cached"] == nil)

            let again = try await h.send(try await h.newConversation(h.alice), token: h.alice, body: question, scenario: "500")
            #expect(again.names.last == "done")
            #expect(again.final?["cached"] as? Bool == true)
            #expect(again.text == first.text)
            #expect(again.final?["cost_usd"] as? String == "0")
            let stored = try await h.answer(again)
            #expect(stored.status == .complete && stored.content == first.text)
            #expect(MetricsTests.sample(try await h.text("/metrics"), #"sluice_cached_answers_total{model="sim"}"#) == 1)

            // Not the identical request (another temperature): the failure is the answer.
            let warmer = try await h.send(
                try await h.newConversation(h.alice), token: h.alice,
                body: #"{"content":"What is two plus two?","temperature":0.7}"#, scenario: "500")
            #expect(warmer.names.last == "error")
        }
    }
}

extension FallbackTests {
    @Test("a model's own first-token timeout applies to it, the default to the others")
    func perModelTimeouts() async throws {
        var settings = TurnSettings(
            firstTokenTimeout: .seconds(60), idleTimeout: .seconds(60), retryPolicy: RetryPolicy(maxRetries: 0, jitter: 0))
        settings.perModel = ["sim-stall-first": .init(firstToken: .milliseconds(200))]
        #expect(settings.firstTokenTimeout(for: "sim") == .seconds(60))
        try await Harness.run(turn: settings) { h in
            let conversation = try await h.newConversation(h.alice, body: #"{"model":"sim-stall-first"}"#)
            let turn = try await h.send(conversation, token: h.alice)
            #expect(turn.names.last == "error")
            // With the default 60 s the answer would arrive once the simulator's 1.5 s stall ends: a timeout
            // means the model's own 200 ms applied.
            #expect(turn.final?["code"] as? String == "upstream_timeout")
        }
    }

    @Test("a model that does not start answering within its first-token timeout hands over to its fallback")
    func firstTokenTimeoutFallsBack() async throws {
        var settings = TurnSettings(
            firstTokenTimeout: .seconds(60), idleTimeout: .seconds(60), retryPolicy: RetryPolicy(maxRetries: 3, jitter: 0))
        settings.perModel = ["sim-stall-first": .init(firstToken: .milliseconds(200))]
        let metrics = SluiceMetrics()
        try await Harness.run(turn: settings, metrics: metrics, fallbacks: ["sim-stall-first": ["sim"]]) { h in
            let conversation = try await h.newConversation(h.alice, body: #"{"model":"sim-stall-first"}"#)
            let turn = try await h.send(conversation, token: h.alice)
            // No retry of the silent model (the user already waited a whole timeout): straight to the fallback.
            let statuses = turn.events.filter { $0.event == "status" }.compactMap(Harness.Turn.object)
            #expect(statuses.map { $0["state"] as? String } == ["fallback"])
            #expect(statuses.first?["from"] as? String == "sim-stall-first" && statuses.first?["to"] as? String == "sim")
            #expect(turn.names.last == "done")
            #expect(turn.final?["model"] as? String == "sim")
            #expect(turn.text == SimulatedText.answer(tokens: 24))
            #expect(h.sleeper.waits.isEmpty)
            let stored = try await h.answer(turn)
            #expect(stored.status == .complete && stored.model == "sim" && stored.content == turn.text)
            let text = try await h.text("/metrics")
            #expect(MetricsTests.sample(text, #"sluice_upstream_errors_total{status="first_token_timeout"}"#) == 1)
            #expect(MetricsTests.sample(text, #"sluice_fallbacks_total{from="sim-stall-first",to="sim"}"#) == 1)
        }
    }
}
