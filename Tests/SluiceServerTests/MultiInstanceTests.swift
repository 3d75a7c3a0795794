import Foundation
import SluiceCore
import SluiceServer
import SluiceSimulator
import SluiceStore
import SluiceTestSupport
import Synchronization
import Testing

/// Two Sluice instances on one PostgreSQL database, each with its own store, pool and generation hub.
@Suite("Several instances on one PostgreSQL", .enabled(if: TestDatabases.postgresURL != nil))
struct MultiInstanceTests {
    @Test("1 000 concurrent turns spread over two instances never overspend one budget, and every turn that fit ran")
    func sharedBudget() async throws {
        // Every turn uses exactly 9 + 24 = 33 tokens (see BudgetTests.exactTurn): 500 of them fit in 16 500.
        try await Harness.run(
            simulator: SimulatorSettings(tokens: 24, delay: .milliseconds(1)), turn: BudgetTests.exactTurn, budgets: true,
            database: .postgres
        ) { first in
            let alice = try #require(try await first.store.user(named: "alice"))
            try await first.store.setPlan(userID: alice.id, plan: .free, tokenLimit: 16_500)
            // The conversations are made in the store directly: the HTTP work under test is the turns.
            var made: [String] = []
            for turn in 0..<1000 {
                made.append(try await first.store.createConversation(
                    userID: alice.id, title: "turn \(turn)", model: "sim", systemPrompt: nil).id)
            }
            let conversations = made
            try await first.peer { second in
                let instances = [first, second]
                let outcomes = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
                    for turn in 0..<1000 {
                        let h = instances[turn % 2]
                        let conversation = conversations[turn]
                        group.addTask {
                            let reply = try await h.send(conversation, token: h.alice)
                            if reply.status == 429 {
                                let body = try? JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any]
                                return (429, (body?["error"] as? [String: Any])?["code"] as? String)
                            }
                            return (reply.status, reply.last?.event)
                        }
                    }
                    return try await group.reduce(into: [(Int, String?)]()) { $0.append($1) }
                }
                let answered = outcomes.filter { $0 == (200, "done") }.count
                let refused = outcomes.filter { $0 == (429, "budget_exceeded") }.count
                #expect(answered + refused == 1000, "every turn either answered or was refused with budget_exceeded")
                #expect(answered == 500, "no turn that fit was refused, and none beyond the limit ran")
                let budget = try await second.store.budget(userID: alice.id, now: Date())
                #expect(budget.used == 16_500)
                #expect(budget.used <= 16_500)
                // A client has its `done` once every token reached it; under a loaded suite an answer's end may wait for
                // the database a little longer (`UnsavedAnswerEnds`), its hold counted in `used` meanwhile. Seen once:
                // 438 of the 500 settled when the history was read. Up to 60 s for the last ends to be written.
                var history = try await first.store.usageHistory(userID: alice.id, since: Date().addingTimeInterval(-3600), groupedBy: .model)
                for _ in 0..<600 where history.map(\.turns).reduce(0, +) < 500 {
                    try await Task.sleep(for: .milliseconds(100))
                    history = try await first.store.usageHistory(userID: alice.id, since: Date().addingTimeInterval(-3600), groupedBy: .model)
                }
                #expect(history.map(\.totalTokens).reduce(0, +) == budget.used)
                #expect(history.map(\.turns).reduce(0, +) == 500)
            }
        }
    }

    @Test("a resume sent to the instance that is not generating the answer replays it and follows it to the end")
    func resumeOnTheOtherInstance() async throws {
        try await Harness.run(simulator: SimulatorSettings(tokens: 80, delay: .milliseconds(15)), database: .postgres) { first in
            let conversation = try await first.newConversation(first.alice)
            // The browser leaves instance one after 3 tokens; the answer goes on there.
            let start = try await first.send(conversation, token: first.alice) { _, count in count < 4 }  // meta + 3 tokens
            let id = try #require(start.assistantID)
            try await first.peer { second in
                // The reconnect lands on instance two, which has never seen this generation.
                let rest = try await ResumeTests.resume(second, id, lastEventID: "\(id):3")
                #expect(rest.status == 200)
                let seqs = rest.events.filter { $0.event == "token" }.compactMap {
                    $0.id?.split(separator: ":").last.flatMap { Int($0) }
                }
                #expect(seqs == Array(4...80), "no gap and no repeat")
                #expect(rest.last?.event == "done")
                #expect(start.text + rest.text == SimulatedText.answer(tokens: 80))
                #expect(try await second.settledMessage(id).status == .complete)
                // Instance two also sees the conversation, with both messages, for the same user.
                let listed = try await second.request(.GET, "/api/conversations/\(conversation)", token: second.alice)
                #expect(listed.status == 200)
                #expect(try await second.request(.GET, "/api/conversations/\(conversation)", token: second.bob).status == 403)
            }
        }
    }

    @Test("a stop sent to the instance that is not generating the answer stops it there", .timeLimit(.minutes(2)))
    func stopOnTheOtherInstance() async throws {
        try await Harness.run(
            simulator: SimulatorSettings(tokens: 200, delay: .milliseconds(5)),
            // Without the stop, nothing but this timeout would end the gated answer below: the test then fails.
            turn: TurnSettings(firstTokenTimeout: .seconds(60), idleTimeout: .seconds(20), retryPolicy: RetryPolicy(jitter: 0)),
            database: .postgres
        ) { first in
            let conversation = try await first.newConversation(first.alice)
            try await first.peer { second in
                let reply = CancelReply()
                let gate = UUID().uuidString
                // Instance one streams the answer a token at a time as this client releases them; at token 3 the
                // stop goes to instance two, and no further token is released.
                let turn = try await first.send(conversation, token: first.alice, headers: ["X-Sluice-Gate": gate]) { event, _ in
                    if event.event == "meta", let id = Harness.Turn.object(event)?["assistant_message_id"] as? String {
                        await reply.remember(id)
                        try await first.releaseGate(gate)
                    }
                    guard event.event == "token", let number = event.id?.split(separator: ":").last.flatMap({ Int($0) }) else {
                        return true
                    }
                    if number < 3 {
                        try await first.releaseGate(gate)
                    } else if number == 3, let id = await reply.id {
                        await reply.set(try await second.request(.POST, "/api/messages/\(id)/cancel", token: second.alice).status)
                    }
                    return true
                }
                try await first.releaseGate(gate, count: 10_000)  // lets the simulator's stream see its closed connection
                let id = try #require(await reply.id)
                #expect(await reply.status == 202)
                #expect(turn.last?.event == "done")
                #expect(turn.final?["finish_reason"] as? String == "cancelled")
                #expect(turn.tokens.count == 3)
                let stored = try await second.settledMessage(id)
                #expect(stored.status == .cancelled)
                #expect(stored.content == turn.text)
                // A browser following the answer on instance two sees the same end.
                let followed = try await ResumeTests.resume(second, id, lastEventID: "\(id):3")
                #expect(followed.tokens.isEmpty)
                #expect(followed.last?.event == "done")
                #expect(followed.final?["finish_reason"] as? String == "cancelled")
                // Nothing runs any more, on either instance; and another user may not stop it.
                #expect(try await second.request(.POST, "/api/messages/\(id)/cancel", token: second.alice).errorCode == "not_running")
                #expect(try await first.request(.POST, "/api/messages/\(id)/cancel", token: first.alice).errorCode == "not_running")
                #expect(try await second.request(.POST, "/api/messages/\(id)/cancel", token: second.bob).status == 403)
            }
        }
    }
}
