import Foundation
import SluiceCore
import SluiceServer
import SluiceSimulator
import Testing

@Suite("Usage history, estimates and per-conversation figures")
struct UsageHistoryTests {
    static let catalog: ModelCatalog = {
        var catalog = ModelCatalog()
        catalog.setPrice("sim", ModelPrice(inputPerMillion: "2.50", outputPerMillion: "10.00")!)
        catalog.setContextWindow("sim", 200)
        return catalog
    }()

    @Test("history by day, conversation and model adds up to what the turns were charged; CSV says the same")
    func historyAndCSV() async throws {
        try await Harness.run(turn: BudgetTests.exactTurn, budgets: true, catalog: Self.catalog) { h in
            let first = try await h.newConversation(h.alice, body: "{\"title\":\"=SUM(A1), \\\"quoted\\\"\"}")
            let second = try await h.newConversation(h.alice)
            for conversation in [first, first, second] {
                let turn = try await h.send(conversation, token: h.alice)
                #expect(turn.last?.event == "done")
            }
            // Bob's usage is his own.
            _ = try await h.send(try await h.newConversation(h.bob), token: h.bob)

            let byDay = try await h.request(.GET, "/api/usage?period=today&group=day", token: h.alice)
            #expect(byDay.status == 200)
            let totals = try #require(byDay.json?["totals"] as? [String: Any])
            // Two turns of 9 + 24 in the first conversation (the second turn's input grows with the history:
            // 3 + (4+2) + (4+24) + (4+2) = 43) and one of 33 in the second.
            #expect(totals["turns"] as? Int == 3)
            #expect(totals["total_tokens"] as? Int == 33 + (43 + 24) + 33)
            #expect(totals["input_tokens"] as? Int == 9 + 43 + 9)
            // 61 × $2.50/M + 72 × $10.00/M = $0.0001525 + $0.00072
            #expect(totals["cost_usd"] as? String == "0.0008725")
            let days = try #require(byDay.json?["series"] as? [[String: Any]])
            #expect(days.count == 1)
            #expect((days.first?["key"] as? String)?.count == 10)

            let byConversation = try await h.request(.GET, "/api/usage?period=week&group=conversation", token: h.alice)
            let rows = try #require(byConversation.json?["series"] as? [[String: Any]])
            #expect(rows.map { $0["key"] as? String } == [first, second])
            #expect(rows.first?["total_tokens"] as? Int == 33 + 67)
            #expect(rows.first?["label"] as? String == "=SUM(A1), \"quoted\"")

            let byModel = try await h.request(.GET, "/api/usage?period=month&group=model", token: h.alice)
            #expect((byModel.json?["series"] as? [[String: Any]])?.map { $0["key"] as? String } == ["sim"])

            let csv = try await h.text("/api/usage?period=week&group=conversation&format=csv", token: h.alice)
            let lines = csv.split(separator: "\r\n").map(String.init)
            #expect(lines.first == "conversation,title,input_tokens,output_tokens,total_tokens,cost_usd,turns,cache_hits,saved_tokens,saved_cost_usd,rated_good,rated_bad,cached_input_tokens")
            #expect(lines.count == 3)
            // A title is quoted and can never run as a spreadsheet formula.
            #expect(lines[1] == "\(first),\"'=SUM(A1), \"\"quoted\"\"\",52,48,100,0.00061,2,0,0,0,0,0,0")

            let bad = try await h.request(.GET, "/api/usage?period=year", token: h.alice)
            #expect(bad.status == 400)
            #expect(try await h.request(.GET, "/api/usage", token: nil).status == 401)
        }
    }

    @Test("the estimate breaks the next turn's input down, shows the reserve, and says how to save tokens")
    func estimate() async throws {
        try await Harness.run(turn: BudgetTests.exactTurn, budgets: true, catalog: Self.catalog) { h in
            let alice = try #require(try await h.store.user(named: "alice"))
            try await h.store.setPlan(userID: alice.id, plan: .free, tokenLimit: 100)
            let conversation = try await h.newConversation(h.alice, body: "{\"system_prompt\":\"Be brief and kind\"}")
            _ = try await h.send(conversation, token: h.alice)
            let long = Array(repeating: "word", count: 60).joined(separator: " ")
            let reply = try await h.request(.POST, "/api/conversations/\(conversation)/estimate", token: h.alice, body: "{\"content\":\"\(long)\"}")
            #expect(reply.status == 200)
            let json = try #require(reply.json)
            // 3 + (4+4 system) + (4+2 question) + (4+24 answer) + (4+60 new message)
            #expect(json["input_tokens"] as? Int == 109)
            let breakdown = try #require(json["breakdown"] as? [String: Any])
            #expect(breakdown["system"] as? Int == 4)
            #expect(breakdown["message"] as? Int == 60)
            #expect(breakdown["context"] as? Int == 109 - 60 - 4)
            #expect(breakdown["context_messages"] as? Int == 2)
            #expect(json["context_window"] as? Int == 200)
            #expect(json["would_exceed_budget"] as? Bool == true)
            let suggestions = try #require(json["suggestions"] as? [String])
            #expect(suggestions.contains { $0.contains("only 59 are left") })
            // The first turn held and spent 17 in + 24 out.
            #expect((json["budget"] as? [String: Any])?["used"] as? Int == 41)

            // The conversation itself shows how full it is.
            let shown = try await h.request(.GET, "/api/conversations/\(conversation)", token: h.alice)
            #expect(shown.json?["tokens_used"] as? Int == 3 + 8 + 6 + 28)
            #expect(shown.json?["context_window"] as? Int == 200)
            #expect(shown.json?["percent"] as? Int == 45 * 100 / 200)
            #expect(shown.json?["tokens_spent"] as? Int == 41)
            let messages = try #require(shown.json?["messages"] as? [[String: Any]])
            // 17 × $2.50/M + 24 × $10.00/M
            #expect(messages.last?["cost_usd"] as? String == "0.0002825")
            #expect(messages.first?["cost_usd"] == nil)

            let other = try await h.request(.POST, "/api/conversations/\(conversation)/estimate", token: h.bob, body: "{\"content\":\"hi\"}")
            #expect(other.status == 403)
        }
    }
}
