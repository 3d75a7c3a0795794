import Foundation
import SluiceCore
import SluiceServer
import SluiceSimulator
import SluiceStore
import SluiceTestSupport
import Synchronization
import Testing

@Suite("Token budgets are enforced before any token is spent")
struct BudgetTests {
    /// The simulator answers 24 tokens; capping answers at 24 makes every hold exactly what a turn uses
    /// (9 input + 24 output = 33), so exactly ⌊4000 / 33⌋ = 121 turns fit in a 4 000-token budget.
    static let exactTurn = TurnSettings(
        firstTokenTimeout: .seconds(60), idleTimeout: .seconds(60), maxOutputTokens: 24, retryPolicy: RetryPolicy(jitter: 0))

    @Test("200 concurrent turns against one 4 000-token budget: never overspent, and every turn that fit ran", arguments: TestDatabases.backends)
    func concurrentTurnsNeverOverspend(_ backend: StoreBackend) async throws {
        try await Harness.run(
            simulator: SimulatorSettings(tokens: 24, delay: .milliseconds(1)), turn: Self.exactTurn, budgets: true, database: backend
        ) { h in
            var conversations: [String] = []
            for _ in 0 ..< 200 { conversations.append(try await h.newConversation(h.alice)) }
            let outcomes = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
                for conversation in conversations {
                    group.addTask {
                        let turn = try await h.send(conversation, token: h.alice)
                        if turn.status == 429 {
                            let error = (try? JSONSerialization.jsonObject(with: Data(turn.body.utf8)) as? [String: Any])?["error"] as? [String: Any]
                            return (429, error?["code"] as? String)
                        }
                        return (turn.status, turn.last?.event)
                    }
                }
                var outcomes: [(Int, String?)] = []
                for try await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
            let answered = outcomes.filter { $0 == (200, "done") }.count
            let refused = outcomes.filter { $0 == (429, "budget_exceeded") }.count
            #expect(answered + refused == 200, "every turn either answered or was refused with budget_exceeded")
            #expect(answered == 4_000 / 33, "no turn that fit was refused")
            let alice = try #require(try await h.store.user(named: "alice"))
            let budget = try await h.store.budget(userID: alice.id, now: Date())
            #expect(budget.used == answered * 33)
            #expect(budget.used <= 4_000)
            #expect(budget.level == .warn90)
            // The ledger agrees with the budget: what was charged is what the answers used.
            var charged = 0
            for conversation in conversations { charged += try await h.store.conversationTokens(conversationID: conversation) }
            #expect(charged == budget.used)
        }
    }

    @Test("done reports cost, budget level and the conversation's total; the last turn is cut to what is left; then 429", arguments: TestDatabases.backends)
    func levelsCostAndRefusal(_ backend: StoreBackend) async throws {
        var catalog = ModelCatalog()
        catalog.setPrice("sim", try #require(ModelPrice(inputPerMillion: "2.50", outputPerMillion: "10.00")))
        try await Harness.run(
            simulator: SimulatorSettings(tokens: 24, delay: .milliseconds(1)), turn: Self.exactTurn, budgets: true, database: backend, catalog: catalog
        ) { h in
            let alice = try #require(try await h.store.user(named: "alice"))
            try await h.store.setPlan(userID: alice.id, plan: .free, tokenLimit: 120)
            var levels: [String] = []
            for expectedUsed in [33, 66, 99] {
                let conversation = try await h.newConversation(h.alice)
                let turn = try await h.send(conversation, token: h.alice)
                let done = try #require(turn.final)
                // 9 × $2.50/M + 24 × $10.00/M, exactly.
                #expect(done["cost_usd"] as? String == "0.0002625")
                #expect(done["conversation_tokens"] as? Int == 33)
                let budget = try #require(done["budget"] as? [String: Any])
                #expect(budget["used"] as? Int == expectedUsed)
                #expect(budget["limit"] as? Int == 120)
                levels.append(try #require(budget["level"] as? String))
            }
            #expect(levels == ["ok", "ok", "warn_75"])
            // 21 tokens are left: the input (9) fits, so the answer is capped at 12 tokens instead of refused.
            let conversation = try await h.newConversation(h.alice)
            let last = try await h.send(conversation, token: h.alice)
            #expect(last.tokens.count == 12)
            #expect(last.final?["finish_reason"] as? String == "length")
            #expect((last.final?["budget"] as? [String: Any])?["level"] as? String == "exceeded")
            // Nothing is left: refused before the upstream is called, with what to do, and the message is kept.
            let refused = try await h.send(conversation, token: h.alice, body: "{\"content\":\"one more\"}")
            #expect(refused.status == 429)
            let error = try #require((try JSONSerialization.jsonObject(with: Data(refused.body.utf8)) as? [String: Any])?["error"] as? [String: Any])
            #expect(error["code"] as? String == "budget_exceeded")
            let message = try #require(error["message"] as? String)
            #expect(message.contains("0 of your 120 tokens"))
            #expect(message.contains("new conversation") && message.contains("upgrade your plan") && message.contains("wait until the reset"))
            #expect((error["budget"] as? [String: Any])?["remaining"] as? Int == 0)
            let stored = try await h.store.messages(conversationID: conversation)
            #expect(stored.last?.content == "one more")
            #expect(stored.last?.role == .user)

            let limits = try await h.request(.GET, "/api/usage/limits", token: h.alice)
            #expect(limits.status == 200)
            #expect(limits.json?["used"] as? Int == 120)
            #expect(limits.json?["percent"] as? Int == 100)
            #expect(limits.json?["level"] as? String == "exceeded")
            #expect(limits.json?["plan"] as? String == "free")
            #expect((limits.json?["reset_at"] as? String)?.hasSuffix("T00:00:00Z") == true)

            // A new period starts from zero.
            try await h.store.resetBudget(userID: alice.id, now: Date())
            let after = try await h.send(conversation, token: h.alice, body: "{\"content\":\"after the reset\"}")
            #expect(after.status == 200)
            #expect(after.last?.event == "done")
        }
    }

    @Test("a turn that fails before any text releases its hold; a cancelled one is charged for what it generated", arguments: TestDatabases.backends)
    func failuresReleaseAndCancelsCharge(_ backend: StoreBackend) async throws {
        // The gate holds the answer at token 3 until the cancel has been answered (sendCancelling): it lands mid-answer.
        try await Harness.run(
            simulator: SimulatorSettings(tokens: 200, delay: .milliseconds(20)),
            turn: TurnSettings(firstTokenTimeout: .seconds(60), idleTimeout: .seconds(60), retryPolicy: RetryPolicy(jitter: 0)),
            budgets: true, database: backend
        ) { h in
            let alice = try #require(try await h.store.user(named: "alice"))
            let conversation = try await h.newConversation(h.alice)
            let failed = try await h.send(conversation, token: h.alice, scenario: "400")
            #expect(failed.last?.event == "error")
            #expect(try await h.store.budget(userID: alice.id, now: Date()).used == 0)

            let (cancelled, _) = try await h.sendCancelling(try await h.newConversation(h.alice), token: h.alice, atToken: 3)
            #expect(cancelled.final?["finish_reason"] as? String == "cancelled")
            let charged = 9 + cancelled.tokens.count
            #expect((cancelled.final?["budget"] as? [String: Any])?["used"] as? Int == charged)
            #expect(try await h.store.budget(userID: alice.id, now: Date()).used == charged)
        }
    }

    /// $2.50 / $10.00 per million: a 9 + 24-token turn costs $0.0002625.
    static let pricedCatalog: ModelCatalog = {
        var catalog = ModelCatalog()
        catalog.setPrice("sim", ModelPrice(inputPerMillion: "2.50", outputPerMillion: "10.00")!)
        return catalog
    }()

    @Test("a user's daily dollar limit: the last turn is cut to what the money allows, then 429 naming the dollars", arguments: TestDatabases.backends)
    func dailyDollarLimit(_ backend: StoreBackend) async throws {
        try await Harness.run(turn: Self.exactTurn, budgets: true, database: backend, catalog: Self.pricedCatalog) { h in
            let alice = try #require(try await h.store.user(named: "alice"))
            try await h.store.setDailyDollarLimit(userID: alice.id, limit: USDAmount("0.001"))
            var spent: [String] = []
            for _ in 0 ..< 3 {
                let turn = try await h.send(try await h.newConversation(h.alice), token: h.alice)
                let dollars = try #require((turn.final?["budget"] as? [String: Any])?["daily_usd"] as? [String: Any])
                spent.append(try #require(dollars["spent"] as? String))
            }
            #expect(spent == ["0.0002625", "0.000525", "0.0007875"])
            #expect(try await h.text("/metrics").contains("sluice_cost_usd_total{model=\"sim\"} 0.0007875"))
            // $0.0002125 left: the input costs $0.0000225, so 19 output tokens at $0.00001 fit.
            let last = try await h.send(try await h.newConversation(h.alice), token: h.alice)
            #expect(last.tokens.count == 19)
            #expect(last.final?["cost_usd"] as? String == "0.0002125")
            let dollars = try #require((last.final?["budget"] as? [String: Any])?["daily_usd"] as? [String: Any])
            #expect(dollars["spent"] as? String == "0.001")
            #expect(dollars["level"] as? String == "exceeded")
            let refused = try await h.send(try await h.newConversation(h.alice), token: h.alice)
            #expect(refused.status == 429)
            let message = try #require(((try JSONSerialization.jsonObject(with: Data(refused.body.utf8)) as? [String: Any])?["error"] as? [String: Any])?["message"] as? String)
            #expect(message.contains("spent $0.001 of your daily $0.001"))
            // Bob has no dollar limit and is not affected.
            #expect(try await h.send(try await h.newConversation(h.bob), token: h.bob).last?.event == "done")
        }
    }

    @Test("the service's daily dollar limit is shared by everyone", arguments: TestDatabases.backends)
    func globalDailyDollarLimit(_ backend: StoreBackend) async throws {
        try await Harness.run(
            turn: Self.exactTurn, budgets: true, database: backend, catalog: Self.pricedCatalog, globalDailyUSD: USDAmount("0.0005")
        ) { h in
            #expect(try await h.send(try await h.newConversation(h.alice), token: h.alice).tokens.count == 24)
            // $0.0002375 left for everyone: Bob's answer is cut to 21 tokens.
            let bob = try await h.send(try await h.newConversation(h.bob), token: h.bob)
            #expect(bob.tokens.count == 21)
            let global = try #require((bob.final?["budget"] as? [String: Any])?["global_daily_usd"] as? [String: Any])
            #expect(global["spent"] as? String == "0.000495")
            #expect(global["level"] as? String == "warn_90")
            let refused = try await h.send(try await h.newConversation(h.alice), token: h.alice)
            #expect(refused.status == 429)
            #expect(refused.body.contains("The service has reached its daily spending limit ($0.0005)"))
            let limits = try await h.request(.GET, "/api/usage/limits", token: h.alice)
            #expect((limits.json?["global_daily_usd"] as? [String: Any])?["limit"] as? String == "0.0005")
            #expect(limits.json?["daily_usd"] is NSNull)
        }
    }
}
