import Foundation
import SluiceCore
import SluiceStore
import SluiceTestSupport
import Testing

@testable import SluiceServer

/// `GET /api/admin/audit-log` and what writes it: administrators' changes to users and teams, users' to their keys.
@Suite("Audit log")
struct AuditLogTests {
    static func entries(_ h: Harness, _ query: String = "") async throws -> [[String: Any]] {
        try #require(try await h.request(.GET, "/api/admin/audit-log" + query, token: h.alice).json?["entries"] as? [[String: Any]])
    }

    static func actions(_ entries: [[String: Any]]) -> [String] { entries.compactMap { $0["action"] as? String } }

    /// An entry's changes as "field: from → to" ("none" for null).
    static func changes(_ entry: [String: Any]) -> [String] {
        (entry["changes"] as? [[String: Any]] ?? []).map { change in
            "\(change["field"] as? String ?? "?"): \(change["from"] as? String ?? "none") → \(change["to"] as? String ?? "none")"
        }
    }

    @Test("an administrator's changes to a user are written as each setting before and after, by whom and from where",
          arguments: TestDatabases.backends)
    func userChanges(database: StoreBackend) async throws {
        try await Harness.run(budgets: true, database: database) { h in
            let agent = ["User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"]
            let added = try await h.request(
                .POST, "/api/admin/users", token: h.alice, body: #"{"name":"cy","plan":"pro","password":"cy's password"}"#, headers: agent)
            #expect(added.status == 201)
            let changed = try await h.request(
                .PATCH, "/api/admin/users/cy", token: h.alice,
                body: #"{"plan":"unlimited","daily_usd":"2.5","requests_per_minute":60,"models":["sim"],"admin":true}"#)
            #expect(changed.status == 200)
            // The same values again move nothing, and nothing is written.
            #expect(try await h.request(.PATCH, "/api/admin/users/cy", token: h.alice, body: #"{"daily_usd":"2.5"}"#).status == 200)
            #expect(try await h.request(.PATCH, "/api/admin/users/cy", token: h.alice, body: #"{"password":"cy's new password"}"#).status == 200)
            #expect(try await h.request(.POST, "/api/admin/users/cy/token", token: h.alice).status == 200)

            let log = try await Self.entries(h)
            #expect(Self.actions(log) == ["user.token_issued", "user.changed", "user.changed", "user.added"])
            let made = log[3]
            #expect((made["actor"] as? [String: Any])?["name"] as? String == "alice")
            #expect((made["target"] as? [String: Any])?["kind"] as? String == "user")
            #expect((made["target"] as? [String: Any])?["name"] as? String == "cy")
            #expect(made["user_agent"] as? String == agent["User-Agent"] && made["address"] as? String == "127.0.0.1")
            #expect(Self.changes(made).contains("plan: none → pro") && Self.changes(made).contains("password: none → set"))
            #expect(Self.changes(made).contains("status: none → active"))
            // Never the password itself, nor any token.
            let whole = try #require(try await h.request(.GET, "/api/admin/audit-log", token: h.alice).json)
            let body = String(decoding: try JSONSerialization.data(withJSONObject: whole), as: UTF8.self)
            #expect(!body.contains("cy's password") && !body.contains("cy's new password"))

            let plan = Self.changes(log[2])
            #expect(plan.contains("plan: pro → unlimited") && plan.contains("daily_usd: none → 2.5"))
            #expect(plan.contains("requests_per_minute: none → 60") && plan.contains("models: none → sim") && plan.contains("admin: no → yes"))
            #expect(!plan.contains { $0.hasPrefix("team") || $0.hasPrefix("password") })
            #expect(Self.changes(log[1]) == ["password: set → changed"])
            #expect(Self.changes(log[0]).isEmpty)
        }
    }

    @Test("a change that fails half-way writes the half that was made; a deletion writes what the user had")
    func halfWayAndDeleted() async throws {
        try await Harness.run(budgets: true) { h in
            // `admin` is set before the team is looked for, which is not there: 404, and the admin change stays.
            let failed = try await h.request(.PATCH, "/api/admin/users/bob", token: h.alice, body: #"{"admin":true,"team":"nope"}"#)
            #expect(failed.status == 404)
            var log = try await Self.entries(h)
            #expect(Self.actions(log) == ["user.changed"] && Self.changes(log[0]) == ["admin: no → yes"])

            #expect(try await h.request(.DELETE, "/api/admin/users/bob", token: h.alice).status == 204)
            log = try await Self.entries(h)
            #expect(Self.actions(log).first == "user.deleted")
            #expect(Self.changes(log[0]).contains("plan: free → none") && Self.changes(log[0]).contains("admin: yes → none"))
        }
    }

    @Test("teams made, renamed and deleted, and users' own keys, are written; read by name, kind and page; only administrators may read",
          arguments: TestDatabases.backends)
    func teamsKeysAndReading(database: StoreBackend) async throws {
        try await Harness.run(budgets: true, database: database) { h in
            #expect(try await h.request(
                .POST, "/api/admin/teams", token: h.alice, body: #"{"name":"lab","daily_usd":"3","members":["bob"]}"#).status == 201)
            #expect(try await h.request(
                .PATCH, "/api/admin/teams/lab", token: h.alice, body: #"{"name":"research","tokens_per_minute":5000}"#).status == 200)
            #expect(try await h.request(.POST, "/api/keys", token: h.bob, body: #"{"label":"ci","daily_usd":"1"}"#).status == 201)
            #expect(try await h.request(.PATCH, "/api/keys/ci", token: h.bob, body: #"{"requests_per_minute":10}"#).status == 200)
            #expect(try await h.request(.DELETE, "/api/keys/ci", token: h.bob).status == 204)
            #expect(try await h.request(.DELETE, "/api/admin/teams/research", token: h.alice).status == 204)

            let log = try await Self.entries(h)
            #expect(Self.actions(log) == ["team.deleted", "key.revoked", "key.changed", "key.added", "team.changed", "team.added"])
            #expect(Self.changes(log[5]).contains("members: none → bob") && Self.changes(log[5]).contains("daily_usd: none → 3"))
            #expect(Self.changes(log[4]) == ["name: lab → research", "tokens_per_minute: none → 5000"])
            #expect((log[4]["target"] as? [String: Any])?["name"] as? String == "lab")
            #expect(Self.changes(log[3]).contains("label: none → ci") && Self.changes(log[3]).contains("daily_usd: none → 1"))
            #expect((log[3]["actor"] as? [String: Any])?["name"] as? String == "bob")
            #expect(Self.changes(log[2]) == ["requests_per_minute: none → 10"])
            #expect((log[2]["target"] as? [String: Any])?["label"] as? String == "ci")
            #expect((log[4]["target"] as? [String: Any])?["label"] == nil)
            #expect(Self.changes(log[1]) == ["revoked: none → yes"])

            // By kind, by name (bob made the keys: his), a page at a time.
            #expect(Self.actions(try await Self.entries(h, "?kind=key")) == ["key.revoked", "key.changed", "key.added"])
            #expect(Self.actions(try await Self.entries(h, "?name=bob")) == ["key.revoked", "key.changed", "key.added"])
            let page = try #require(try await h.request(.GET, "/api/admin/audit-log?limit=4", token: h.alice).json)
            let next = try #require(page["next_before"] as? String)
            let rest = try #require(try await h.request(.GET, "/api/admin/audit-log?limit=4&before=\(next)", token: h.alice).json)
            #expect(Self.actions(rest["entries"] as? [[String: Any]] ?? []) == ["team.changed", "team.added"])
            #expect(rest["next_before"] is NSNull)

            // A name with spaces, as a form writes it (`+`) or as a path does (`%20`); a `+` of its own is `%2B`.
            #expect(try await h.request(.POST, "/api/admin/teams", token: h.alice, body: #"{"name":"night shift+1"}"#).status == 201)
            #expect(Self.actions(try await Self.entries(h, "?name=night+shift%2B1")) == ["team.added"])
            #expect(Self.actions(try await Self.entries(h, "?name=night%20shift%2B1")) == ["team.added"])
            #expect(try await Self.entries(h, "?name=night+shift+1").isEmpty)

            // As a spreadsheet: every entry asked for, one a row.
            let csv = try await h.bytes("/api/admin/audit-log?format=csv&kind=key", token: h.alice)
            #expect(csv.status == 200 && csv.contentType == "text/csv; charset=utf-8")
            let rows = String(decoding: csv.body, as: UTF8.self).components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(rows.first == "at,actor,actor_user_id,action,target_kind,target,key_label,changes,address,user_agent")
            #expect(rows.count == 4 && rows[1].contains(",key.revoked,key,bob,ci,revoked: none → yes,127.0.0.1,"))
            #expect(rows[3].contains(",key.added,key,bob,ci,label: none → ci; daily_usd: none → 1,"))
            #expect(try await h.request(.GET, "/api/admin/audit-log?format=xml", token: h.alice).status == 400)
            #expect(try await h.request(.GET, "/api/admin/audit-log?format=csv", token: h.bob).status == 403)

            #expect(try await h.request(.GET, "/api/admin/audit-log?kind=plan", token: h.alice).status == 400)
            #expect(try await h.request(.GET, "/api/admin/audit-log?limit=500", token: h.alice).status == 400)
            let notAdmin = try await h.request(.GET, "/api/admin/audit-log", token: h.bob)
            #expect(notAdmin.status == 403)
        }
    }
}
