import Foundation
import NIOHTTP1
import SluiceCore
import SluiceStore
import SluiceTestSupport
import Testing

@testable import SluiceServer

/// Budgets per tag (`AdminTagBudgetRoutes`, LiteLLM's tag budgets): set and removed by an administrator, and a call
/// carrying a tag refused once the tag's day is spent, whoever makes it.
@Suite("Tag budget routes")
struct TagBudgetRoutesTests {
    static func listed(_ reply: Harness.Reply) -> [String: [String: Any]] {
        let budgets = reply.json?["tag_budgets"] as? [[String: Any]] ?? []
        return Dictionary(budgets.map { ($0["tag"] as? String ?? "?", $0) }, uniquingKeysWith: { first, _ in first })
    }

    @Test("an administrator sets, lists, changes and removes tag budgets, each in the audit log; others get 403",
          arguments: TestDatabases.backends)
    func manage(_ backend: StoreBackend) async throws {
        try await Harness.run(budgets: true, database: backend) { h in
            for (method, path, body) in [
                (HTTPMethod.GET, "/api/admin/tag-budgets", nil as String?), (.PUT, "/api/admin/tag-budgets/prod", #"{"daily_usd":"1"}"#),
                (.DELETE, "/api/admin/tag-budgets/prod", nil),
            ] {
                let refused = try await h.request(method, path, token: h.bob, body: body)
                #expect(refused.status == 403, "\(method) \(path)")
            }
            #expect(Self.listed(try await h.request(.GET, "/api/admin/tag-budgets", token: h.alice)).isEmpty)

            let made = try await h.request(.PUT, "/api/admin/tag-budgets/prod", token: h.alice, body: #"{"daily_usd":"2.5"}"#)
            #expect(made.status == 201, "\(made.status) \(made.errorMessage ?? "")")
            #expect(made.json?["tag"] as? String == "prod" && made.json?["daily_usd_limit"] as? String == "2.5")
            #expect(made.json?["monthly_usd_limit"] is NSNull && made.json?["spent_today_usd"] as? String == "0")
            let changed = try await h.request(
                .PUT, "/api/admin/tag-budgets/prod", token: h.alice, body: #"{"daily_usd":null,"monthly_usd":40}"#)
            #expect(changed.status == 200 && changed.json?["daily_usd_limit"] is NSNull && changed.json?["monthly_usd_limit"] as? String == "40")
            // A tag written with a space is found by its percent-encoded path.
            #expect(try await h.request(.PUT, "/api/admin/tag-budgets/team%20a", token: h.alice, body: #"{"monthly_usd":"3"}"#).status == 201)
            // A tag may hold a slash (calls' tags may): percent-encoded, it is one segment of the path.
            let slashed = try await h.request(.PUT, "/api/admin/tag-budgets/eu%2Fprod", token: h.alice, body: #"{"daily_usd":"1"}"#)
            #expect(slashed.status == 201 && slashed.json?["tag"] as? String == "eu/prod", "\(slashed.status)")
            #expect(try await h.request(.DELETE, "/api/admin/tag-budgets/eu%2Fprod", token: h.alice).status == 204)
            #expect(Self.listed(try await h.request(.GET, "/api/admin/tag-budgets", token: h.alice)).keys.sorted() == ["prod", "team a"])

            // Bad input is named and changes nothing.
            let none = try await h.request(.PUT, "/api/admin/tag-budgets/prod", token: h.alice, body: #"{"daily_usd":null}"#)
            #expect(none.status == 400 && none.errorMessage?.contains("DELETE /api/admin/tag-budgets/{tag}") == true)
            #expect(try await h.request(.PUT, "/api/admin/tag-budgets/prod", token: h.alice, body: #"{"daily_usd":"-1"}"#).status == 400)
            #expect(try await h.request(.PUT, "/api/admin/tag-budgets/prod", token: h.alice, body: #"{"weekly_usd":"1"}"#).status == 400)
            #expect(try await h.request(.PUT, "/api/admin/tag-budgets/a%2Cb", token: h.alice, body: #"{"daily_usd":"1"}"#).status == 400)
            #expect(Self.listed(try await h.request(.GET, "/api/admin/tag-budgets", token: h.alice))["prod"]?["monthly_usd_limit"] as? String == "40")

            #expect(try await h.request(.DELETE, "/api/admin/tag-budgets/prod", token: h.alice).status == 204)
            let gone = try await h.request(.DELETE, "/api/admin/tag-budgets/prod", token: h.alice)
            #expect(gone.status == 404 && gone.errorMessage?.contains("has no budget") == true)

            let log = try #require(try await h.request(.GET, "/api/admin/audit-log?kind=tag", token: h.alice).json?["entries"] as? [[String: Any]])
            let lines = log.map { entry in
                let target = (entry["target"] as? [String: Any])?["name"] as? String ?? "?"
                let changes = (entry["changes"] as? [[String: Any]] ?? []).map {
                    "\($0["field"] as? String ?? "?") \($0["from"] as? String ?? "none")→\($0["to"] as? String ?? "none")"
                }
                return "\(entry["action"] as? String ?? "?") \(target): \(changes.joined(separator: ", "))"
            }
            #expect(lines == [
                "tag_budget.removed prod: monthly_usd 40→none",
                "tag_budget.removed eu/prod: daily_usd 1→none",
                "tag_budget.set eu/prod: daily_usd none→1",
                "tag_budget.set team a: monthly_usd none→3",
                "tag_budget.set prod: daily_usd 2.5→none, monthly_usd none→40",
                "tag_budget.set prod: daily_usd none→2.5",
            ])
        }
    }

    @Test("calls carrying a tag are refused once its day is spent, whoever makes them, naming the tag; others go on",
          arguments: TestDatabases.backends)
    func refusedOverTheTagsDay(_ backend: StoreBackend) async throws {
        try await Harness.run(turn: BudgetTests.exactTurn, budgets: true, database: backend, catalog: BudgetTests.pricedCatalog) { h in
            #expect(try await h.request(.PUT, "/api/admin/tag-budgets/checkout", token: h.alice, body: #"{"daily_usd":"0.0003"}"#).status == 201)
            let call: [String: Any] = ["model": "sim", "max_tokens": 8, "messages": [["role": "user", "content": "hi"]]]
            var refused: (status: Int, headers: HTTPHeaders, text: String)?
            var answered = 0
            for _ in 0 ..< 40 {
                let reply = try await h.post("/v1/chat/completions", token: h.alice, headers: ["x-sluice-tags": "eu,checkout"], json: call)
                if reply.status != 200 {
                    refused = reply
                    break
                }
                answered += 1
            }
            let refusal = try #require(refused)
            #expect(answered > 0 && refusal.status == 429, "\(refusal.status) \(refusal.text)")
            #expect(refusal.text.contains("The tag 'checkout' has spent $"), "\(refusal.text)")
            #expect(refusal.text.contains("of the $0.0003 calls tagged with it may spend together a day"))
            let error = try #require(
                (try JSONSerialization.jsonObject(with: Data(refusal.text.utf8)) as? [String: Any])?["error"] as? [String: Any])
            let tagDay = try #require(error["tag_usd"] as? [String: Any])
            #expect(tagDay["name"] as? String == "checkout" && tagDay["period"] as? String == "day" && tagDay["limit"] as? String == "0.0003")
            #expect(tagDay["level"] as? String == "exceeded")
            #expect(refusal.headers["x-should-retry"].first == "false" && Int(refusal.headers["Retry-After"].first ?? "") != nil)
            // Bob's calls with the tag are refused too; without it, and Alice's with another tag, go on.
            #expect(try await h.post("/v1/chat/completions", token: h.bob, headers: ["x-sluice-tags": "checkout"], json: call).status == 429)
            #expect(try await h.post("/v1/chat/completions", token: h.bob, json: call).status == 200)
            #expect(try await h.post("/v1/chat/completions", token: h.alice, headers: ["x-sluice-tags": "eu"], json: call).status == 200)

            // What the list says the tag spent is the sum of its calls' costs in the call log.
            let calls = try #require(try await h.request(.GET, "/api/usage/calls", token: h.alice).json?["calls"] as? [[String: Any]])
            let tagged = calls.filter { ($0["tags"] as? [String])?.contains("checkout") == true }
            #expect(tagged.count == answered)
            let sum = tagged.compactMap { ($0["cost_usd"] as? String).flatMap(USDAmount.init) }.reduce(USDAmount.zero, +)
            let spent = Self.listed(try await h.request(.GET, "/api/admin/tag-budgets", token: h.alice))["checkout"]?["spent_today_usd"] as? String
            #expect(spent == sum.decimalString && sum > .zero)
            // Prometheus sees the tag's day against its limit (read at each scrape); a removed budget loses its series.
            var metrics = try await h.text("/metrics")
            #expect(metrics.contains("sluice_tag_spent_usd{tag=\"checkout\",period=\"daily\"} \(sum.decimalString)"), "\(metrics)")
            #expect(metrics.contains(#"sluice_tag_limit_usd{tag="checkout",period="daily"} 0.0003"#))
            #expect(!metrics.contains(#"sluice_tag_limit_usd{tag="checkout",period="monthly"}"#))
            #expect(try await h.request(.DELETE, "/api/admin/tag-budgets/checkout", token: h.alice).status == 204)
            metrics = try await h.text("/metrics")
            #expect(!metrics.contains("sluice_tag_"))
            #expect(try await h.post("/v1/chat/completions", token: h.alice, headers: ["x-sluice-tags": "checkout"], json: call).status == 200)
        }
    }
}
