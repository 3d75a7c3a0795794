import Foundation
import SluiceCore
@testable import SluiceServer
import SluiceSimulator
import Testing

@Suite("Retries before the first token")
struct RetryTests {
    @Test("503 twice, then success: two announced waits, then the answer; stored complete")
    func recoversAfterOverload() async throws {
        try await Harness.run { h in
            let conversation = try await h.newConversation(h.alice)
            let turn = try await h.send(conversation, token: h.alice, scenario: "503x2")
            #expect(turn.names == ["meta", "status", "status"] + Array(repeating: "token", count: 24) + ["done"])
            #expect(h.sleeper.waits == [.seconds(2), .seconds(4)])
            let first = try #require(turn.events.first { $0.event == "status" }.flatMap(Harness.Turn.object))
            #expect(first["reason"] as? String == "overloaded")
            #expect(turn.text == SimulatedText.answer(tokens: 24))
            #expect(try await h.answer(turn).status == .complete)
        }
    }

    @Test("429 with Retry-After in seconds waits exactly that long, then succeeds")
    func retryAfterSeconds() async throws {
        try await Harness.run { h in
            let conversation = try await h.newConversation(h.alice)
            let turn = try await h.send(conversation, token: h.alice, scenario: "429x1")
            #expect(h.sleeper.waits == [.seconds(1)])
            #expect(turn.last?.event == "done")
            let status = try #require(turn.events.first { $0.event == "status" }.flatMap(Harness.Turn.object))
            #expect(status["reason"] as? String == "rate_limited")
            #expect(status["wait_ms"] as? Int == 1000)
        }
    }

    @Test("429 with Retry-After as an HTTP-date waits until that time")
    func retryAfterDate() async throws {
        try await Harness.run { h in
            let conversation = try await h.newConversation(h.alice)
            // The date 30 s ahead (the test's sleeper returns at once): room for a loaded machine's delays, which
            // made a date 5 s ahead read as under 2 s in a full CI run.
            let turn = try await h.send(
                conversation, token: h.alice, scenario: "429-datex1", headers: ["X-Sluice-Stall-Ms": "30000"])
            #expect(turn.last?.event == "done")
            let wait = try #require(h.sleeper.waits.first)
            // 30 s ahead at one-second resolution, minus however long the answer took to reach Sluice; ignoring the
            // date would give the 1 s back-off instead.
            #expect(wait > .seconds(15) && wait <= .seconds(30), "\(wait)")
        }
    }

    @Test("a Retry-After longer than Sluice's budget fails at once with a message saying how long to wait")
    func retryAfterTooLong() async throws {
        try await Harness.run { h in
            let conversation = try await h.newConversation(h.alice)
            let turn = try await h.send(conversation, token: h.alice, scenario: "429-long")
            #expect(turn.names == ["meta", "error"])
            #expect(h.sleeper.waits.isEmpty)
            #expect(turn.final?["code"] as? String == "rate_limited")
            let message = try #require(turn.final?["message"] as? String)
            #expect(message.contains("120 s"))
            #expect(message.contains("2 minutes"))
        }
    }

    @Test("a failure after text has reached the client is never retried")
    func noRetryMidStream() async throws {
        try await Harness.run { h in
            let conversation = try await h.newConversation(h.alice)
            let turn = try await h.send(conversation, token: h.alice, scenario: "reset-mid")
            #expect(!turn.names.contains("status"))
            #expect(h.sleeper.waits.isEmpty)
            #expect(turn.final?["partial"] as? Bool == true)
        }
    }

    @Test("Retry-After parsing: delta-seconds, HTTP-date, and garbage")
    func parseRetryAfter() throws {
        let now = try #require(ISO8601DateFormatter().date(from: "2026-11-25T10:00:00Z"))
        #expect(RetryPolicy.parseRetryAfter("3", now: now) == .seconds(3))
        #expect(RetryPolicy.parseRetryAfter(" 0 ", now: now) == .zero)
        #expect(RetryPolicy.parseRetryAfter("Wed, 25 Nov 2026 10:00:30 GMT", now: now) == .seconds(30))
        #expect(RetryPolicy.parseRetryAfter("Wed, 25 Nov 2026 09:59:00 GMT", now: now) == .zero)
        #expect(RetryPolicy.parseRetryAfter("soon", now: now) == nil)
        #expect(RetryPolicy.parseRetryAfter("-5", now: now) == nil)
    }

    @Test("jitter keeps each wait within ±20 % of the schedule, and the total within the budget")
    func jitterBounds() {
        let policy = RetryPolicy()
        let error = ProviderError.http(status: 500, message: "", retryAfter: nil)
        for (random, factor) in [(0.0, 0.8), (0.5, 1.0), (1.0, 1.2)] {
            let decision = policy.decide(after: error, retriesSoFar: 2, waitedSoFar: .seconds(3), random: { random })
            #expect(decision == .retry(after: .seconds(4) * factor, reason: "server_error"))
        }
        #expect(policy.decide(after: error, retriesSoFar: 5, waitedSoFar: .zero) == .giveUp(nil))
        #expect(policy.decide(after: error, retriesSoFar: 4, waitedSoFar: .seconds(50), random: { 0.5 }) == .giveUp(nil))
        #expect(policy.decide(after: ProviderError.http(status: 400, message: "", retryAfter: nil), retriesSoFar: 0, waitedSoFar: .zero) == .giveUp(nil))
        #expect(policy.decide(after: ProviderError.upstreamError(message: "x"), retriesSoFar: 0, waitedSoFar: .zero) == .giveUp(nil))
        #expect(RetryPolicy.none.decide(after: error, retriesSoFar: 0, waitedSoFar: .zero) == .giveUp(nil))
    }
}
