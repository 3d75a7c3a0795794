import Foundation
import NIOHTTP1
import SluiceCore
import SluiceStore
import SluiceTestSupport
import Testing

@testable import SluiceServer

/// `/api/admin/teams` and a team's daily limit on its members' turns.
@Suite("Teams")
struct TeamRoutesTests {
    static func teams(_ reply: Harness.Reply) -> [String: [String: Any]] {
        let listed = reply.json?["teams"] as? [[String: Any]] ?? []
        return Dictionary(listed.map { ($0["name"] as? String ?? "", $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Makes the team "pair" of alice and bob with $0.0005 as its `limit` ("daily_usd" or "monthly_usd"); alice's turn
    /// (24 tokens, $0.0002625) fits whole, bob's is cut to the 21 tokens the rest allows. Returns bob's turn.
    static func spendAsPair(_ h: Harness, limit: String) async throws -> Harness.Turn {
        let made = try await h.request(
            .POST, "/api/admin/teams", token: h.alice, body: #"{"name":"pair",""# + limit + #"":"0.0005","members":["alice","bob"]}"#)
        #expect(made.status == 201 && made.json?[limit + "_limit"] as? String == "0.0005")
        #expect(try await h.send(try await h.newConversation(h.alice), token: h.alice).tokens.count == 24)
        let bob = try await h.send(try await h.newConversation(h.bob), token: h.bob)
        #expect(bob.tokens.count == 21)
        return bob
    }

    @Test("an administrator makes, lists, changes and deletes teams and puts users in them; others get 403",
          arguments: TestDatabases.backends)
    func manageTeams(database: StoreBackend) async throws {
        try await Harness.run(budgets: true, database: database) { h in
            for (method, path, body) in [
                (HTTPMethod.GET, "/api/admin/teams", nil), (.POST, "/api/admin/teams", #"{"name":"mine"}"#),
                (.PATCH, "/api/admin/teams/mine", #"{"daily_usd":null}"#), (.DELETE, "/api/admin/teams/mine", nil),
            ] as [(HTTPMethod, String, String?)] {
                let refused = try await h.request(method, path, token: h.bob, body: body)
                #expect(refused.status == 403 && refused.errorCode == "admin_only", "\(method) \(path)")
            }
            #expect(try await h.store.team(named: "mine") == nil)

            // A misspelt member makes nothing.
            let misspelt = try await h.request(.POST, "/api/admin/teams", token: h.alice, body: #"{"name":"lab","members":["bobb"]}"#)
            #expect(misspelt.status == 404 && misspelt.errorMessage?.contains("bobb") == true)
            #expect(try await h.store.team(named: "lab") == nil)
            let bad = try await h.request(.POST, "/api/admin/teams", token: h.alice, body: #"{"name":"a/b"}"#)
            #expect(bad.status == 400 && bad.errorMessage?.contains("'/'") == true)
            let badLimit = try await h.request(.POST, "/api/admin/teams", token: h.alice, body: #"{"name":"lab","daily_usd":"-1"}"#)
            #expect(badLimit.status == 400 && badLimit.errorMessage?.contains("daily_usd") == true)

            let made = try await h.request(
                .POST, "/api/admin/teams", token: h.alice, body: #"{"name":" lab ","daily_usd":"2.5","members":["bob"]}"#)
            #expect(made.status == 201)
            #expect(made.json?["name"] as? String == "lab" && made.json?["daily_usd_limit"] as? String == "2.5")
            #expect(made.json?["members"] as? [String] == ["bob"] && made.json?["spent_today_usd"] as? String == "0")
            let again = try await h.request(.POST, "/api/admin/teams", token: h.alice, body: #"{"name":"lab"}"#)
            #expect(again.status == 409 && again.errorCode == "name_taken")
            let users = AdminUserRoutesTests.users(try await h.request(.GET, "/api/admin/users", token: h.alice))
            #expect(users["bob"]?["team"] as? String == "lab" && users["alice"]?["team"] is NSNull)
            #expect(try await h.request(.GET, "/api/me", token: h.bob).json?["team"] as? String == "lab")
            #expect(try await h.request(.GET, "/api/me", token: h.alice).json?["team"] is NSNull)
            // The member sees their team with their limits.
            let limits = try await h.request(.GET, "/api/usage/limits", token: h.bob)
            let team = try #require(limits.json?["team"] as? [String: Any])
            #expect(team["name"] as? String == "lab" && (team["daily_usd"] as? [String: Any])?["limit"] as? String == "2.5")
            #expect(try await h.request(.GET, "/api/usage/limits", token: h.alice).json?["team"] is NSNull)

            let monthly = try await h.request(.PATCH, "/api/admin/teams/lab", token: h.alice, body: #"{"monthly_usd":"40"}"#)
            #expect(monthly.json?["monthly_usd_limit"] as? String == "40" && monthly.json?["spent_this_month_usd"] as? String == "0")
            let badMonthly = try await h.request(.PATCH, "/api/admin/teams/lab", token: h.alice, body: #"{"monthly_usd":"lots"}"#)
            #expect(badMonthly.status == 400 && badMonthly.errorMessage?.contains("'monthly_usd'") == true)
            let teamMonth = try #require((try await h.request(.GET, "/api/usage/limits", token: h.bob).json?["team"] as? [String: Any])?["monthly_usd"] as? [String: Any])
            #expect(teamMonth["limit"] as? String == "40")

            // Renamed, limit removed; alice joins by her own user's `team`, bob leaves by his.
            let changed = try await h.request(.PATCH, "/api/admin/teams/lab", token: h.alice, body: #"{"name":"lab 2","daily_usd":null}"#)
            #expect(changed.status == 200 && changed.json?["name"] as? String == "lab 2" && changed.json?["daily_usd_limit"] is NSNull)
            #expect(try await h.request(.PATCH, "/api/admin/teams/lab", token: h.alice, body: #"{"daily_usd":1}"#).status == 404)
            let joined = try await h.request(.PATCH, "/api/admin/users/alice", token: h.alice, body: #"{"team":"lab 2"}"#)
            #expect(joined.status == 200 && joined.json?["team"] as? String == "lab 2")
            let unknown = try await h.request(.PATCH, "/api/admin/users/alice", token: h.alice, body: #"{"team":"nope"}"#)
            #expect(unknown.status == 404 && unknown.errorMessage?.contains("There is no team named 'nope'") == true)
            #expect(try await h.request(.PATCH, "/api/admin/users/bob", token: h.alice, body: #"{"team":null}"#).json?["team"] is NSNull)
            var listed = Self.teams(try await h.request(.GET, "/api/admin/teams", token: h.alice))
            #expect(listed["lab 2"]?["members"] as? [String] == ["alice"])

            // Deleted: its member stays, in no team.
            #expect(try await h.request(.DELETE, "/api/admin/teams/lab%202", token: h.alice).status == 204)
            listed = Self.teams(try await h.request(.GET, "/api/admin/teams", token: h.alice))
            #expect(listed.isEmpty)
            #expect(try await h.request(.GET, "/api/me", token: h.alice).status == 200)
            #expect(try await h.store.teamNamesByUser().isEmpty)
        }
    }

    @Test("a team's daily limit is shared by its members: the last turn is cut to it, the next refused naming the team",
          arguments: TestDatabases.backends)
    func teamLimitOnTurns(_ backend: StoreBackend) async throws {
        try await Harness.run(turn: BudgetTests.exactTurn, budgets: true, database: backend, catalog: BudgetTests.pricedCatalog) { h in
            // $0.0002375 left for the team after alice's turn: Bob's answer is cut, though his own budget has no dollar limit.
            let bob = try await Self.spendAsPair(h, limit: "daily_usd")
            let team = try #require((bob.final?["budget"] as? [String: Any])?["team"] as? [String: Any])
            let dollars = try #require(team["daily_usd"] as? [String: Any])
            #expect(team["name"] as? String == "pair" && dollars["spent"] as? String == "0.000495" && dollars["level"] as? String == "warn_90")
            let refused = try await h.send(try await h.newConversation(h.alice), token: h.alice)
            #expect(refused.status == 429)
            #expect(refused.body.contains("Your team 'pair' has spent $0.000495 of the $0.0005 its members may spend together a day"))
            #expect(refused.body.contains("ask an administrator to raise the team's limit"))
            #expect(Self.teams(try await h.request(.GET, "/api/admin/teams", token: h.alice))["pair"]?["spent_today_usd"] as? String == "0.000495")
            // Prometheus sees the team's day against its limit (read at each scrape).
            var metrics = try await h.text("/metrics")
            #expect(metrics.contains(#"sluice_team_spent_usd{team="pair",period="daily"} 0.000495"#), "\(metrics)")
            #expect(metrics.contains(#"sluice_team_limit_usd{team="pair",period="daily"} 0.0005"#))
            #expect(!metrics.contains(#"sluice_team_limit_usd{team="pair",period="monthly"}"#))
            // Out of the team, alice is held to her own limits only.
            #expect(try await h.request(.PATCH, "/api/admin/users/alice", token: h.alice, body: #"{"team":null}"#).status == 200)
            #expect(try await h.send(try await h.newConversation(h.alice), token: h.alice).tokens.count == 24)

            // Everyone's usage by team: the team's two turns under its name, alice's last one under none.
            let byTeam = try await h.request(.GET, "/api/usage?period=today&group=team&scope=all", token: h.alice)
            let series = try #require(byTeam.json?["series"] as? [[String: Any]])
            let rows = series.map { "\($0["label"] as? String ?? "-") \($0["turns"] as? Int ?? 0) \($0["cost_usd"] as? String ?? "")" }
            #expect(rows == ["pair 2 0.000495", "- 1 0.0002625"])
            #expect(try await h.request(.GET, "/api/usage?period=today&group=team", token: h.bob).json?["series"] is [[String: Any]])
            let csv = try await h.text("/api/usage?period=today&group=team&scope=all&format=csv", token: h.alice)
            #expect(csv.hasPrefix("team,name,input_tokens,"))
            #expect(csv.contains(",pair,"))

            // A limit removed loses its series; a team deleted, all of them.
            #expect(try await h.request(.PATCH, "/api/admin/teams/pair", token: h.alice, body: #"{"daily_usd":null}"#).status == 200)
            metrics = try await h.text("/metrics")
            #expect(!metrics.contains("sluice_team_limit_usd{") && metrics.contains(#"sluice_team_spent_usd{team="pair",period="monthly"} 0.000495"#))
            #expect(try await h.request(.DELETE, "/api/admin/teams/pair", token: h.alice).status == 204)
            #expect(!(try await h.text("/metrics")).contains("sluice_team_"))
        }
    }

    @Test("a team's models narrow its members' own: listed, refused with 403 model_not_allowed, and back at once when widened",
          arguments: TestDatabases.backends)
    func teamModels(database: StoreBackend) async throws {
        try await Harness.run(database: database, listedModels: ["sim", "sim-echo"]) { h in
            let bad = try await h.request(.POST, "/api/admin/teams", token: h.alice, body: #"{"name":"t","models":["nope"]}"#)
            #expect(bad.status == 400 && bad.errorMessage?.contains("'nope' is not a model this server serves") == true)
            // Bob has been seen (and his credential cached) before his team is made: the change applies at once anyway.
            #expect(try await h.request(.GET, "/v1/models", token: h.bob).status == 200)
            let made = try await h.request(
                .POST, "/api/admin/teams", token: h.alice, body: #"{"name":"echoes","models":["sim-echo"],"members":["bob"]}"#)
            #expect(made.status == 201 && made.json?["models"] as? [String] == ["sim-echo"])
            let list = try await h.request(.GET, "/v1/models", token: h.bob)
            #expect((list.json?["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["sim-echo"])
            #expect(try await h.request(.GET, "/api/me", token: h.bob).json?["models"] as? [String] == ["sim-echo"])
            let body = #"{"model":"sim","messages":[{"role":"user","content":"hello"}]}"#
            let refused = try await h.request(.POST, "/v1/chat/completions", token: h.bob, body: body)
            #expect(refused.status == 403 && refused.errorCode == "model_not_allowed")
            #expect(refused.errorMessage?.contains("It may use: sim-echo.") == true && refused.errorMessage?.contains("your team's models") == true)
            // Alice, in no team, keeps every model.
            #expect(try await h.request(.POST, "/v1/chat/completions", token: h.alice, body: body).status == 200)

            let widened = try await h.request(.PATCH, "/api/admin/teams/echoes", token: h.alice, body: #"{"models":null}"#)
            #expect(widened.status == 200 && widened.json?["models"] is NSNull)
            #expect(try await h.request(.POST, "/v1/chat/completions", token: h.bob, body: body).status == 200)
            // Narrowed again, then bob leaves the team: his own models apply at once.
            #expect(try await h.request(.PATCH, "/api/admin/teams/echoes", token: h.alice, body: #"{"models":["sim-echo"]}"#).status == 200)
            #expect(try await h.request(.POST, "/v1/chat/completions", token: h.bob, body: body).status == 403)
            #expect(try await h.request(.DELETE, "/api/admin/teams/echoes", token: h.alice).status == 204)
            #expect(try await h.request(.POST, "/v1/chat/completions", token: h.bob, body: body).status == 200)
        }
    }

    @Test("a team's monthly limit refuses a member's turn naming the month and waits until the next one",
          arguments: TestDatabases.backends)
    func teamMonthlyLimitOnTurns(_ backend: StoreBackend) async throws {
        try await Harness.run(turn: BudgetTests.exactTurn, budgets: true, database: backend, catalog: BudgetTests.pricedCatalog) { h in
            let bob = try await Self.spendAsPair(h, limit: "monthly_usd")
            let month = try #require(((bob.final?["budget"] as? [String: Any])?["team"] as? [String: Any])?["monthly_usd"] as? [String: Any])
            #expect(month["spent"] as? String == "0.000495" && month["reset_at"] as? String == UTCMonth.next(after: Date()).formatted(.iso8601))
            let refused = try await h.send(try await h.newConversation(h.alice), token: h.alice)
            #expect(refused.status == 429)
            #expect(refused.body.contains("Your team 'pair' has spent $0.000495 of the $0.0005 its members may spend together a month"))
            let wait = try #require(refused.headers.first(name: "Retry-After").flatMap { Int($0) })
            #expect(abs(Double(wait) - UTCMonth.next(after: Date()).timeIntervalSinceNow) < 60)
        }
    }

    @Test("a team's requests a minute are shared by its members: the next is refused naming the team, with Retry-After",
          arguments: TestDatabases.backends)
    func teamRateLimitOnTurns(_ backend: StoreBackend) async throws {
        try await Harness.run(budgets: true, database: backend) { h in
            let bad = try await h.request(.POST, "/api/admin/teams", token: h.alice, body: #"{"name":"pair","tokens_per_minute":0}"#)
            #expect(bad.status == 400 && bad.errorMessage?.contains("'tokens_per_minute'") == true)
            let made = try await h.request(
                .POST, "/api/admin/teams", token: h.alice,
                body: #"{"name":"pair","requests_per_minute":2,"max_parallel_requests":5,"members":["alice","bob"]}"#)
            #expect(made.status == 201 && made.json?["requests_per_minute"] as? Int == 2)
            #expect(made.json?["max_parallel_requests"] as? Int == 5 && made.json?["tokens_per_minute"] is NSNull)
            #expect(try await h.send(try await h.newConversation(h.alice), token: h.alice).status == 200)
            #expect(try await h.send(try await h.newConversation(h.bob), token: h.bob).status == 200)
            // The member sees the team's minute beside their own limits.
            let team = try #require(try await h.request(.GET, "/api/usage/limits", token: h.bob).json?["team"] as? [String: Any])
            #expect(team["requests_per_minute"] as? Int == 2 && team["requests_last_minute"] as? Int == 2)
            #expect(team["running_requests"] as? Int == 0 && team["tokens_per_minute"] is NSNull)

            let refused = try await h.send(try await h.newConversation(h.alice), token: h.alice)
            #expect(refused.status == 429 && refused.body.contains("rate_limit_exceeded"))
            #expect(refused.body.contains("Your team 'pair' has sent 2 requests in the last minute, the most it may send (2 a minute)"))
            #expect(refused.body.contains("ask an administrator to raise the team's limit"))
            #expect(refused.body.contains(#""team":"pair""#))
            let wait = try #require(refused.headers.first(name: "Retry-After").flatMap { Int($0) })
            #expect((1...60).contains(wait))

            // Raised, the next turn goes at once; removed, the list says so.
            let raised = try await h.request(.PATCH, "/api/admin/teams/pair", token: h.alice, body: #"{"requests_per_minute":null}"#)
            #expect(raised.status == 200 && raised.json?["requests_per_minute"] is NSNull)
            #expect(try await h.send(try await h.newConversation(h.alice), token: h.alice).status == 200)
        }
    }
}
