import Foundation
import SluiceCore
@testable import SluiceServer
import SluiceSimulator
import SluiceTestSupport
import Testing

/// OpenAI's `n` on the gateway: several answers to one call, each a turn of its own (stored, held and charged),
/// returned as the choices of one completion or one stream.
@Suite("Several answers to one gateway call (n)")
struct GatewayChoicesTests {
    static let question = [["role": "user", "content": "Name a colour."]]

    /// The stored answer of each message id the call's `X-Sluice-Message-Id` lists, in the choices' order.
    static func storedAnswers(_ h: Harness, ids header: String?) async throws -> [[String: Any]] {
        let ids = try #require(header).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        var answers: [[String: Any]] = []
        for id in ids {
            let reply = try await h.request(.GET, "/api/messages/\(id)", token: h.alice)
            answers.append(try #require(reply.json, "message \(id): \(reply.status)"))
        }
        return answers
    }

    @Test("whole: a choice per answer, each its own stored answer, with the answers' usage and cost added up as the ledger charged them",
          arguments: TestDatabases.backends)
    func whole(_ backend: StoreBackend) async throws {
        let (catalog, price) = try PromptCacheTests.pricedCatalog()
        try await Harness.run(budgets: true, database: backend, catalog: catalog) { h in
            let reply = try await h.post("/v1/chat/completions", token: h.alice, json: [
                "model": "sim", "messages": Self.question, "n": 3, "max_tokens": 5,
            ])
            #expect(reply.status == 200, "\(reply.text)")
            let completion = try #require(EmbeddingsTests.object(reply.text))
            let choices = try #require(completion["choices"] as? [[String: Any]])
            #expect(choices.map { $0["index"] as? Int } == [0, 1, 2])
            let stored = try await Self.storedAnswers(h, ids: reply.headers.first(name: "X-Sluice-Message-Id"))
            #expect(stored.count == 3)
            for (choice, answer) in zip(choices, stored) {
                let message = try #require(choice["message"] as? [String: Any])
                #expect(message["content"] as? String == SimulatedText.answer(tokens: 5))
                #expect(message["content"] as? String == answer["content"] as? String && answer["status"] as? String == "complete")
                #expect(choice["finish_reason"] as? String == "length")
            }
            // Three conversations, one per answer, each named in the header in the same order.
            let conversations = try #require(reply.headers.first(name: "X-Sluice-Conversation-Id")).split(separator: ",")
            #expect(Set(conversations.map { $0.trimmingCharacters(in: .whitespaces) }).count == 3)
            let listed = try await h.request(.GET, "/api/conversations", token: h.alice)
            #expect((listed.json?["conversations"] as? [Any])?.count == 3)

            let usage = try #require(completion["usage"] as? [String: Any])
            let input = try #require(usage["prompt_tokens"] as? Int)
            #expect(usage["completion_tokens"] as? Int == 15 && input % 3 == 0 && input > 0, "\(usage)")
            let cost = price.cost(inputTokens: input, outputTokens: 15).decimalString
            #expect(GatewayCostTests.writtenCost(in: reply.text[...]) == cost && reply.headers.first(name: "X-Sluice-Response-Cost") == cost)
            let totals = try #require(
                try await h.request(.GET, "/api/usage?period=today&group=model", token: h.alice).json?["totals"] as? [String: Any])
            #expect(totals["turns"] as? Int == 3 && totals["cost_usd"] as? String == cost && totals["output_tokens"] as? Int == 15)
            #expect(try await h.simulatorStats()["streams_completed"] as? Int == 3)

            // A caller that goes on with one of the answers continues that answer's conversation.
            let chosen = try #require((choices[1]["message"] as? [String: Any])?["content"] as? String)
            let next = try await h.post("/v1/chat/completions", token: h.alice, json: [
                "model": "sim", "max_tokens": 5,
                "messages": Self.question + [["role": "assistant", "content": chosen], ["role": "user", "content": "Another?"]],
            ])
            #expect(next.status == 200)
            let continued = try #require(next.headers.first(name: "X-Sluice-Conversation-Id"))
            #expect(conversations.map { $0.trimmingCharacters(in: .whitespaces) }.contains(continued))
            #expect((try await h.request(.GET, "/api/conversations", token: h.alice).json?["conversations"] as? [Any])?.count == 3)
        }
    }

    @Test("streamed: each answer's chunks in order under its index, a finish for each, then one usage chunk with the sum and one [DONE]")
    func streamed() async throws {
        let (catalog, price) = try PromptCacheTests.pricedCatalog()
        try await Harness.run(budgets: true, catalog: catalog) { h in
            let body = try TextCompletionsTests.json([
                "model": "sim", "messages": Self.question, "n": 2, "max_tokens": 6, "stream": true,
                "stream_options": ["include_usage": true],
            ])
            let streamed = try await h.stream("/v1/chat/completions", token: h.alice, method: .POST, body: body)
            #expect(streamed.status == 200 && streamed.contentType == "text/event-stream")
            #expect(streamed.events.last?.data == "[DONE]" && streamed.events.filter { $0.data == "[DONE]" }.count == 1)
            let chunks = streamed.events.dropLast().compactMap(Harness.Turn.object)
            let stored = try await Self.storedAnswers(h, ids: streamed.headers.first(name: "X-Sluice-Message-Id"))
            for index in 0..<2 {
                let mine = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first }.filter { $0["index"] as? Int == index }
                let deltas = mine.compactMap { $0["delta"] as? [String: Any] }
                #expect(deltas.first?["role"] as? String == "assistant", "each choice opens with its role")
                let text = deltas.compactMap { $0["content"] as? String }.joined()
                #expect(text == SimulatedText.answer(tokens: 6) && text == stored[index]["content"] as? String)
                #expect(mine.compactMap { $0["finish_reason"] as? String } == ["length"])
                #expect(mine.last?["finish_reason"] as? String == "length", "the finish is the choice's last chunk")
            }
            // Every chunk but the last has `usage: null`; the last has no choices and both answers' usage and cost.
            let last = try #require(chunks.last)
            #expect((last["choices"] as? [Any])?.isEmpty == true)
            #expect(chunks.dropLast().allSatisfy { $0["usage"] is NSNull })
            let usage = try #require(last["usage"] as? [String: Any])
            let input = try #require(usage["prompt_tokens"] as? Int)
            #expect(usage["completion_tokens"] as? Int == 12 && input % 2 == 0, "\(usage)")
            let cost = price.cost(inputTokens: input, outputTokens: 12).decimalString
            #expect(GatewayCostTests.writtenCost(in: streamed.events.dropLast().last?.data[...] ?? "") == cost)
            let totals = try #require(
                try await h.request(.GET, "/api/usage?period=today&group=model", token: h.alice).json?["totals"] as? [String: Any])
            #expect(totals["turns"] as? Int == 2 && totals["cost_usd"] as? String == cost)
        }
    }

    @Test("a call for several answers is one request under the rate limits (the user's and a key's), as OpenAI and LiteLLM count it",
          arguments: TestDatabases.backends)
    func oneRequest(_ backend: StoreBackend) async throws {
        try await Harness.run(budgets: true, database: backend) { h in
            let alice = try #require(try await h.store.user(named: "alice"))
            try await h.store.setRateLimit(.parallel, userID: alice.id, limit: 1)
            let made = try await h.request(
                .POST, "/api/keys", token: h.alice, body: #"{"label":"ci","requests_per_minute":2,"max_parallel_requests":1}"#)
            let key = try #require(made.json?["key"] as? String)
            // One answer at once for both, yet three answers in one call: the call is the one request.
            for token in [h.alice, key] {
                let reply = try await h.post("/v1/chat/completions", token: token, json: ["model": "sim", "messages": Self.question, "n": 3])
                #expect(reply.status == 200, "\(reply.text)")
                let choices = (try JSONSerialization.jsonObject(with: Data(reply.text.utf8)) as? [String: Any])?["choices"] as? [Any]
                #expect(choices?.count == 3)
            }
            // The key's two requests a minute: the first call took one, as its headers say; the second takes the other.
            let second = try await h.post("/v1/chat/completions", token: key, json: ["model": "sim", "messages": Self.question, "n": 2, "stream": true])
            #expect(second.status == 200 && second.headers.first(name: "x-ratelimit-remaining-requests") == "0", "\(second.headers)")
            let refused = try await h.post("/v1/chat/completions", token: key, json: ["model": "sim", "messages": Self.question, "n": 2])
            #expect(refused.status == 429, "\(refused.text)")
            #expect(TextCompletionsTests.errorObject(refused.text)?["code"] as? String == "rate_limit_exceeded", "\(refused.text)")
            let limits = try #require(try await h.request(.GET, "/api/usage/limits", token: h.alice).json)
            #expect(limits["running_requests"] as? Int == 0)
            // Each answer is still a turn of its own in the usage.
            let totals = try #require(
                try await h.request(.GET, "/api/usage?period=today&group=model", token: h.alice).json?["totals"] as? [String: Any])
            #expect(totals["turns"] as? Int == 8, "\(totals)")
        }
    }

    @Test("an answer refused before its first token is the call's error status; the answers already streaming are stopped")
    func oneRefused() async throws {
        try await Harness.run { h in
            // The simulator refuses the first request that reaches it (a 400 is not retried); the other two stream,
            // slowly, until Sluice stops them.
            let reply = try await h.post(
                "/v1/chat/completions", token: h.alice,
                headers: ["X-Sluice-Scenario": "400x1", "X-Sluice-Delay-Ms": "200", "X-Sluice-Tokens": "50"],
                json: ["model": "sim", "messages": Self.question, "n": 3])
            #expect(reply.status == 400, "\(reply.text)")
            #expect(TextCompletionsTests.errorObject(reply.text)?["code"] as? String == "upstream_rejected", "\(reply.text)")
            // Every answer's turn was stored, and none ran to its end: the two that had started were stopped.
            let statuses = try await Self.storedAnswers(h).map(\.status)
            #expect(statuses.count == 3 && !statuses.contains(.complete), "\(statuses)")
            let stats = try await h.simulatorStats()
            #expect(stats["streams_completed"] as? Int == 0, "\(stats)")
        }
    }

    @Test("an answer refused while the others wait for their first token: the refusal does not wait for them, and they are stopped before they write anything")
    func refusedBeforeOthersBegin() async throws {
        // The others' first token never comes (a gate nobody opens) and they would wait for it longer than the
        // harness waits for a reply: the 400 comes back only if the refusal stops them (and they end stopped, not
        // timed out).
        try await Harness.run(turn: TurnSettings(firstTokenTimeout: .seconds(90), idleTimeout: .seconds(90))) { h in
            let gate = "never-\(UUID().uuidString)"
            let reply = try await h.post(
                "/v1/chat/completions", token: h.alice, headers: ["X-Sluice-Scenario": "400x1", "X-Sluice-Gate": gate],
                json: ["model": "sim", "messages": Self.question, "n": 3, "stream": true])
            #expect(reply.status == 400, "\(reply.text)")
            #expect(TextCompletionsTests.errorObject(reply.text)?["code"] as? String == "upstream_rejected", "\(reply.text)")
            let answers = try await Self.storedAnswers(h)
            #expect(answers.count == 3 && answers.allSatisfy(\.content.isEmpty), "\(answers)")
            let statuses = answers.map { "\($0.status.rawValue) \($0.errorCode ?? "-")" }
            // The refused answer's error; the two others stopped for it (not timed out waiting for their first token).
            #expect(statuses.sorted() == ["error other_answer_failed", "error other_answer_failed", "error upstream_rejected"], "\(statuses)")
            try await h.releaseGate(gate, count: 100)
        }
    }

    /// Each of alice's conversations' answer, once it has settled.
    static func storedAnswers(_ h: Harness) async throws -> [Message] {
        let listed = try await h.request(.GET, "/api/conversations", token: h.alice)
        var answers: [Message] = []
        for conversation in try #require(listed.json?["conversations"] as? [[String: Any]]) {
            let id = try #require(conversation["id"] as? String)
            let messages = try await h.request(.GET, "/api/conversations/\(id)", token: h.alice).messages
            let answer = try #require(messages.last { $0["role"] as? String == "assistant" })
            answers.append(try await h.settledMessage(try #require(answer["id"] as? String)))
        }
        return answers
    }

    @Test("a client that hangs up mid-stream: every answer is finished and stored, as one answer is; with stop-on-disconnect every upstream call is given up",
          arguments: [false, true])
    func clientLeaves(stopOnDisconnect: Bool) async throws {
        try await Harness.run(
            simulator: SimulatorSettings(tokens: 100, delay: .milliseconds(20), stall: .seconds(30)),
            turn: TurnSettings(stopOnDisconnect: stopOnDisconnect)
        ) { h in
            let body = try TextCompletionsTests.json(["model": "sim", "messages": Self.question, "n": 2, "stream": true])
            let partial = try await h.stream("/v1/chat/completions", token: h.alice, method: .POST, body: body) { _, count in count < 6 }
            #expect(partial.status == 200 && partial.events.count == 6)
            let ended = stopOnDisconnect ? "streams_abandoned" : "streams_completed"
            let stats = try await h.simulatorStats(until: { $0[ended] == 2 })
            #expect(stats[ended] == 2 && stats["streams_started"] == 2, "\(stats)")
            let ids = try #require(partial.headers.first(name: "X-Sluice-Message-Id")).split(separator: ",")
            for id in ids {
                let stored = try await h.settledMessage(id.trimmingCharacters(in: .whitespaces))
                #expect(stored.status == (stopOnDisconnect ? .partial : .complete), "\(stored.status)")
            }
        }
    }

    @Test("n must be between 1 and 16: a 400 naming it")
    func bounds() async throws {
        try await Harness.run { h in
            for n in [0, 17] {
                let reply = try await h.post("/v1/chat/completions", token: h.alice, json: ["model": "sim", "messages": Self.question, "n": n])
                #expect(reply.status == 400)
                #expect(TextCompletionsTests.errorObject(reply.text)?["param"] as? String == "n", "\(reply.text)")
            }
            #expect(try await h.simulatorStats()["streams_started"] as? Int == 0)
        }
    }
}
