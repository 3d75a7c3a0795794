import Foundation
import SluiceCore
import SluiceSimulator
import Testing

@Suite("Chaos: many concurrent streams with random faults")
struct ChaosTests {
    /// The hub's running generations (`/healthz`), once they drain to none or after `checks` checks 20 ms apart: a
    /// generation leaves the hub just after its last event is sent.
    static func activeGenerations(_ h: Harness, drainingFor checks: Int) async throws -> Int {
        var active = -1
        for _ in 0..<checks {
            active = try await h.request(.GET, "/healthz", token: nil).json?["active_generations"] as? Int ?? -1
            if active == 0 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        return active
    }

    static let scenarios = ["ok", "ok", "ok", "split", "no-usage", "429x1", "503x1", "500x2", "reset-mid", "error-mid", "malformed", "400"]

    @Test("200 concurrent turns with random faults: every stream ends properly, nothing is lost, nothing leaks")
    func concurrentFaults() async throws {
        try await Harness.run(simulator: SimulatorSettings(tokens: 30, delay: .milliseconds(10))) { h in
            var generator = SystemRandomNumberGenerator()
            let plan = (0..<200).map { index in (index, Self.scenarios.randomElement(using: &generator)!) }
            let conversations = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<20 { group.addTask { try await h.newConversation(h.alice) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let results = try await withThrowingTaskGroup(of: (String, String, Harness.Turn).self) { group in
                for (index, scenario) in plan {
                    group.addTask {
                        let conversation = conversations[index % conversations.count]
                        let content = "message \(index) \(UUID().uuidString)"
                        let turn = try await h.send(
                            conversation, token: h.alice, body: "{\"content\":\"\(content)\"}", scenario: scenario)
                        return (scenario, content, turn)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.count == 200)
            for (scenario, content, turn) in results {
                #expect(turn.status == 200)
                #expect(turn.names.first == "meta", "\(scenario)")
                #expect(["done", "error"].contains(turn.last?.event ?? ""), "\(scenario): \(turn.names)")
                let answer = try await h.answer(turn)
                #expect(answer.status != .streaming)
                #expect(answer.content == turn.text, "\(scenario): stored text differs from what the client saw")
                let expected: MessageStatus = turn.last?.event == "done" ? .complete : (turn.text.isEmpty ? .error : .partial)
                #expect(answer.status == expected, "\(scenario)")
                if ["ok", "split", "no-usage", "429x1", "503x1", "500x2"].contains(scenario) {
                    #expect(turn.text == SimulatedText.answer(tokens: 30), "\(scenario): \(turn.final ?? [:])")
                }
                let question = try await h.store.message(id: try #require(turn.meta?["user_message_id"] as? String))
                #expect(question?.content == content)
            }
            #expect(try await Self.activeGenerations(h, drainingFor: 200) == 0)
        }
    }

    @Test("40 concurrent gateway calls for 2-4 answers each, streamed, with random faults: each stream ends properly, every choice's text is in its stored answer, nothing leaks")
    func severalAnswersWithFaults() async throws {
        try await Harness.run(simulator: SimulatorSettings(tokens: 30, delay: .milliseconds(10))) { h in
            var generator = SystemRandomNumberGenerator()
            let plan = (0..<40).map { _ in (Self.scenarios.randomElement(using: &generator)!, Int.random(in: 2...4, using: &generator)) }
            let results = try await withThrowingTaskGroup(of: (String, Int, Harness.Turn).self) { group in
                for (index, (scenario, answers)) in plan.enumerated() {
                    group.addTask {
                        let body = try TextCompletionsTests.json([
                            "model": "sim", "n": answers, "stream": true, "messages": [["role": "user", "content": "question \(index)"]],
                        ])
                        let turn = try await h.stream(
                            "/v1/chat/completions", token: h.alice, method: .POST, body: body, headers: ["X-Sluice-Scenario": scenario])
                        return (scenario, answers, turn)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for (scenario, answers, turn) in results {
                // Refused before any text: a JSON error with its status, as for one answer.
                guard turn.status == 200 else {
                    #expect(TextCompletionsTests.errorObject(turn.body) != nil, "\(scenario): \(turn.status) \(turn.body)")
                    continue
                }
                let chunks = turn.events.compactMap(Harness.Turn.object)
                let ended = turn.events.last?.data == "[DONE]" || chunks.last?["error"] != nil
                #expect(ended, "\(scenario): \(turn.events.suffix(2).map(\.data))")
                let ids = try #require(turn.headers.first(name: "X-Sluice-Message-Id")).split(separator: ",")
                #expect(ids.count == answers)
                for (index, id) in ids.enumerated() {
                    let stored = try await h.settledMessage(id.trimmingCharacters(in: .whitespaces))
                    let seen = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first }.filter { $0["index"] as? Int == index }
                        .compactMap { ($0["delta"] as? [String: Any])?["content"] as? String }.joined()
                    // An answer stopped when another failed may have stored a little more than was sent.
                    #expect(stored.content.hasPrefix(seen), "\(scenario) choice \(index): stored text differs from what the client saw")
                    if turn.events.last?.data == "[DONE]" {
                        #expect(stored.status == .complete && stored.content == seen, "\(scenario) choice \(index)")
                    }
                }
            }
            #expect(try await Self.activeGenerations(h, drainingFor: 500) == 0)
        }
    }
}
