import Foundation
import SluiceCore
import SluiceStore
import SluiceTestSupport
import Testing

@Suite("Gateway end users: the `user` field, kept with the conversation, usage per end user")
struct GatewayEndUserTests {
    /// One non-streamed gateway call; `fields` are added to the body (`user`, `safety_identifier`).
    static func call(
        _ h: Harness, messages: [(String, String)], fields: [String: Any] = [:]
    ) async throws -> Harness.Reply {
        var body: [String: Any] = ["model": "sim", "messages": messages.map { ["role": $0.0, "content": $0.1] }]
        body.merge(fields) { _, new in new }
        let data = try JSONSerialization.data(withJSONObject: body)
        return try await h.request(.POST, "/v1/chat/completions", token: h.alice, body: String(decoding: data, as: UTF8.self))
    }

    static func answer(_ reply: Harness.Reply) -> String? {
        ((reply.json?["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String
    }

    @Test("each call's end user is stored with its conversation, keeps threads apart and buckets the usage",
          arguments: TestDatabases.backends)
    func usagePerEndUser(database: StoreBackend) async throws {
        try await Harness.run(budgets: true, database: database) { h in
            let first = try await Self.call(h, messages: [("user", "hello")], fields: ["user": "customer-1"])
            #expect(first.status == 200)
            let firstConversation = try #require(first.headers.first(name: "X-Sluice-Conversation-Id"))
            let history = [("user", "hello"), ("assistant", try #require(Self.answer(first)))]

            // The same end user goes on in the same conversation ...
            let second = try await Self.call(h, messages: history + [("user", "more")], fields: ["user": "customer-1"])
            #expect(second.headers.first(name: "X-Sluice-Conversation-Id") == firstConversation)
            // ... another one sending the very same history does not (nor does a call without an end user).
            let other = try await Self.call(h, messages: history + [("user", "more")], fields: ["safety_identifier": "customer-2"])
            let otherConversation = try #require(other.headers.first(name: "X-Sluice-Conversation-Id"))
            #expect(otherConversation != firstConversation)
            let anonymous = try await Self.call(h, messages: [("user", "hi")])
            let anonymousConversation = try #require(anonymous.headers.first(name: "X-Sluice-Conversation-Id"))

            #expect(try await h.store.conversation(id: firstConversation)?.endUser == "customer-1")
            #expect(try await h.store.conversation(id: otherConversation)?.endUser == "customer-2")
            #expect(try await h.store.conversation(id: anonymousConversation)?.endUser == nil)
            let resource = try await h.request(.GET, "/api/conversations/\(firstConversation)", token: h.alice)
            #expect(resource.json?["end_user"] as? String == "customer-1")
            let anonymousResource = try await h.request(.GET, "/api/conversations/\(anonymousConversation)", token: h.alice)
            #expect(anonymousResource.status == 200 && anonymousResource.json?["end_user"] == nil)

            let byEndUser = try await h.request(.GET, "/api/usage?period=today&group=end_user", token: h.alice)
            #expect(byEndUser.status == 200)
            let rows = try #require(byEndUser.json?["series"] as? [[String: Any]])
            let turns = Dictionary(uniqueKeysWithValues: rows.map { ($0["key"] as? String ?? "?", $0["turns"] as? Int ?? 0) })
            #expect(turns == ["customer-1": 2, "customer-2": 1, "": 1])
            // The buckets add up to the day's totals.
            let byDay = try await h.request(.GET, "/api/usage?period=today&group=day", token: h.alice)
            let dayTotal = (byDay.json?["totals"] as? [String: Any])?["total_tokens"] as? Int
            #expect(dayTotal != nil && rows.reduce(0) { $0 + ($1["total_tokens"] as? Int ?? 0) } == dayTotal)
            let csv = try await h.text("/api/usage?period=today&group=end_user&format=csv", token: h.alice)
            #expect(csv.hasPrefix("end_user,input_tokens,output_tokens,total_tokens,cost_usd,turns,cache_hits,saved_tokens,saved_cost_usd,rated_good,rated_bad,cached_input_tokens\r\n"))
            #expect(csv.contains("\r\ncustomer-1,"))
        }
    }

    @Test("the end user goes upstream as OpenAI's user and as Anthropic's metadata.user_id", arguments: [false, true])
    func sentUpstream(anthropic: Bool) async throws {
        try await Harness.run(anthropic: anthropic) { h in
            let named = try await Self.call(h, messages: [("user", "hello")], fields: ["model": "sim-echo", "user": "shop \"42\""])
            #expect(Self.answer(named)?.hasSuffix("user: hello\nend user: shop \"42\"\n") == true, "\(Self.answer(named) ?? "-")")
            let anonymous = try await Self.call(h, messages: [("user", "hello")], fields: ["model": "sim-echo"])
            #expect(Self.answer(anonymous)?.hasSuffix("user: hello\n") == true)
            #expect(Self.answer(anonymous)?.contains("end user") == false)
        }
    }

    @Test("a limit per end user: one end user's calls end in a 429 that names it, while other end users go on",
          arguments: TestDatabases.backends)
    func limitPerEndUser(database: StoreBackend) async throws {
        try await Harness.run(turn: BudgetTests.exactTurn, budgets: true, database: database, catalog: BudgetTests.pricedCatalog) { h in
            let alice = try #require(try await h.store.user(named: "alice"))
            // About two calls' worth: each answers 24 tokens, $0.00024 of output at $10 per million.
            try await h.store.setEndUserDailyDollarLimit(userID: alice.id, limit: USDAmount("0.0006"))
            var statuses: [Int] = []
            var refusal: Harness.Reply?
            while refusal == nil, statuses.count < 6 {
                let reply = try await Self.call(h, messages: [("user", "hello")], fields: ["user": "shop-1"])
                statuses.append(reply.status)
                if reply.status != 200 { refusal = reply }
            }
            // Two whole answers, a third cut to what the money allows, then the refusal.
            #expect(statuses == [200, 200, 200, 429])
            let refused = try #require(refusal)
            #expect(refused.errorMessage?.contains("The end user 'shop-1' has spent $0.0006 of the $0.0006 a day") == true,
                    "\(refused.errorMessage ?? "-")")
            // Not worth a retry before the end user's day resets at UTC midnight: OpenAI's SDKs would retry a 429 twice.
            #expect(refused.headers.first(name: "x-should-retry") == "false")
            let retryAfterHeader = try #require(refused.headers.first(name: "Retry-After"))
            let retryAfter = try #require(Int(retryAfterHeader))
            let midnight = (Int(Date().timeIntervalSince1970) / 86_400 + 1) * 86_400
            #expect(abs(retryAfter - (midnight - Int(Date().timeIntervalSince1970))) <= 5, "\(retryAfter)")
            let details = try #require((refused.json?["error"] as? [String: Any])?["end_user_daily_usd"] as? [String: Any])
            #expect(details["name"] as? String == "shop-1" && details["level"] as? String == "exceeded")
            // Other end users, and calls without one, are not held to shop-1's day.
            #expect(try await Self.call(h, messages: [("user", "hello")], fields: ["user": "shop-2"]).status == 200)
            #expect(try await Self.call(h, messages: [("user", "hello")]).status == 200)
            let rows = try #require(
                try await h.request(.GET, "/api/usage?period=today&group=end_user", token: h.alice).json?["series"] as? [[String: Any]])
            let cost = Dictionary(uniqueKeysWithValues: rows.map { ($0["key"] as? String ?? "?", $0["cost_usd"] as? String ?? "?") })
            #expect(cost["shop-1"] == "0.0006")

            // What the service can show its customers, and the limit among the account's own.
            let shop1 = try await h.request(.GET, "/api/usage/end-user?name=shop-1", token: h.alice)
            #expect(shop1.json?["name"] as? String == "shop-1" && shop1.json?["spent"] as? String == "0.0006")
            #expect(shop1.json?["remaining"] as? String == "0" && shop1.json?["level"] as? String == "exceeded")
            let shop2 = try await h.request(.GET, "/api/usage/end-user?name=shop-2", token: h.alice)
            #expect(shop2.json?["limit"] as? String == "0.0006" && shop2.json?["level"] as? String == "ok")
            #expect(shop2.json?["spent"] as? String == cost["shop-2"])
            // A name as a form writes it: `+` a space.
            #expect(try await h.request(.GET, "/api/usage/end-user?name=shop+2", token: h.alice).json?["name"] as? String == "shop 2")
            #expect(try await h.request(.GET, "/api/usage/end-user", token: h.alice).status == 400)
            let limits = try await h.request(.GET, "/api/usage/limits", token: h.alice)
            #expect(limits.json?["end_user_daily_usd_limit"] as? String == "0.0006")
            // Another account's end users of the same name are its own: Bob has no limit per end user.
            let bobs = try await h.request(.GET, "/api/usage/end-user?name=shop-1", token: h.bob)
            #expect(bobs.status == 404 && bobs.errorMessage?.contains("no daily limit per end user") == true)
        }
    }

    @Test("an end user name over 256 characters is refused with 400 naming the field, before anything is stored")
    func tooLongEndUser() async throws {
        try await Harness.run { h in
            for field in ["user", "safety_identifier"] {
                let reply = try await Self.call(h, messages: [("user", "hello")], fields: [field: String(repeating: "x", count: 257)])
                #expect(reply.status == 400)
                #expect((reply.json?["error"] as? [String: Any])?["param"] as? String == field)
                #expect(reply.errorMessage?.contains("at most 256 characters") == true)
            }
            #expect(try await h.store.conversations(userID: try #require(try await h.store.user(tokenHash: AccessToken.hash(h.alice))).id).isEmpty)
            let fits = try await Self.call(h, messages: [("user", "hello")], fields: ["user": String(repeating: "x", count: 256)])
            #expect(fits.status == 200)
        }
    }
}
