import Foundation
import SluiceCore
import SluiceStore
import SluiceTestSupport
import Testing

@testable import SluiceServer

/// `GET /api/usage/calls`: the caller's calls one by one (the usage page's Calls), and everyone's for an administrator.
@Suite("Call log")
struct CallLogRouteTests {
    static func calls(_ h: Harness, _ token: String, _ query: String = "") async throws -> [[String: Any]] {
        let reply = try await h.request(.GET, "/api/usage/calls" + query, token: token)
        return try #require(reply.json?["calls"] as? [[String: Any]], "\(reply.status)")
    }

    static func object(_ value: Any?) -> [String: Any]? { value as? [String: Any] }

    @Test("web turns and gateway calls are listed newest first with their figures, key, end user, tags and outcome; narrowed and paged",
          arguments: TestDatabases.backends)
    func ownCalls(_ backend: StoreBackend) async throws {
        try await Harness.run(budgets: true, database: backend) { h in
            let conversation = try await h.newConversation(h.alice)
            let turn = try await h.send(conversation, token: h.alice)
            #expect(turn.last?.event == "done")
            let failed = try await h.send(conversation, token: h.alice, scenario: "error-mid")
            #expect(failed.last?.event == "error")
            let made = try await h.request(.POST, "/api/keys", token: h.alice, body: #"{"label":"ci"}"#)
            let key = try #require(made.json?["key"] as? String)
            let gateway = try await h.post("/v1/chat/completions", token: key, headers: ["x-sluice-tags": "prod,eu"], json: [
                "model": "sim", "user": "shop-1", "messages": [["role": "user", "content": "hi"]],
            ])
            #expect(gateway.status == 200)
            #expect(try await h.post("/v1/chat/completions", token: h.bob, json: [
                "model": "sim", "user": "bobs-customer", "messages": [["role": "user", "content": "hi"]],
            ]).status == 200)

            let mine = try await Self.calls(h, h.alice)
            #expect(mine.count == 3)
            #expect(mine.map { $0["outcome"] as? String } == ["complete", "failed", "complete"])
            let viaKey = mine[0]
            #expect(Self.object(viaKey["key"])?["label"] as? String == "ci" && viaKey["end_user"] as? String == "shop-1")
            #expect(viaKey["tags"] as? [String] == ["prod", "eu"] && viaKey["model"] as? String == "sim")
            #expect(Self.object(viaKey["user"])?["name"] as? String == "alice")
            // The web turn: its conversation to open, its timings, what it used and cost, and no key.
            let web = mine[2]
            #expect(Self.object(web["conversation"])?["id"] as? String == conversation)
            #expect(web["key"] is NSNull && web["end_user"] is NSNull && (web["tags"] as? [String])?.isEmpty == true)
            #expect((web["ttft_ms"] as? Int).map { $0 >= 0 } == true && (web["duration_ms"] as? Int ?? 0) >= (web["ttft_ms"] as? Int ?? 0))
            #expect(web["output_tokens"] as? Int == 24 && (web["input_tokens"] as? Int ?? 0) > 0 && web["finish_reason"] as? String == "stop")
            #expect(web["cost_usd"] is String)
            #expect(mine[1]["error_code"] is String)

            // Narrowed by tag, outcome, key (empty: the user's own token), end user and model.
            #expect(try await Self.calls(h, h.alice, "?tag=eu").count == 1)
            #expect(try await Self.calls(h, h.alice, "?outcome=failed").map { $0["id"] as? String } == [mine[1]["id"] as? String])
            #expect(try await Self.calls(h, h.alice, "?key=").count == 2)
            #expect(try await Self.calls(h, h.alice, "?end_user=shop-1").count == 1)
            #expect(try await Self.calls(h, h.alice, "?model=other").isEmpty)
            #expect(try await h.request(.GET, "/api/usage/calls?outcome=lost", token: h.alice).status == 400)
            #expect(try await Self.calls(h, h.alice, "?period=today").count == 3)
            #expect(try await h.request(.GET, "/api/usage/calls?period=year", token: h.alice).status == 400)
            #expect(try await h.request(.GET, "/api/usage/calls?limit=0", token: h.alice).status == 400)

            // A page at a time.
            let first = try await h.request(.GET, "/api/usage/calls?limit=2", token: h.alice).json
            let next = try #require(first?["next_before"] as? String)
            let second = try await h.request(.GET, "/api/usage/calls?limit=2&before=\(next)", token: h.alice).json
            #expect(second?["next_before"] is NSNull)
            let paged = ((first?["calls"] as? [[String: Any]] ?? []) + (second?["calls"] as? [[String: Any]] ?? [])).map { $0["id"] as? String }
            #expect(paged == mine.map { $0["id"] as? String })

            // How fast the model answered: the two complete answers (not the failed one).
            let latency = try #require(try await h.request(.GET, "/api/usage/latency?period=today", token: h.alice).json)
            let models = try #require(latency["models"] as? [[String: Any]])
            #expect(models.count == 1 && models[0]["model"] as? String == "sim" && models[0]["answers"] as? Int == 2)
            let firstToken = try #require(models[0]["ttft_ms"] as? [String: Int])
            #expect(firstToken["p50"]! <= firstToken["p95"]! && firstToken["p95"]! <= firstToken["p99"]!)
            #expect((models[0]["tokens_per_second_p50"] as? Double ?? 0) > 0)
            #expect(try await h.request(.GET, "/api/usage/latency?scope=all", token: h.bob).status == 403)
            #expect(try await h.request(.GET, "/api/usage/latency?period=year", token: h.alice).status == 400)

            // Bob sees his own only.
            let bobs = try await Self.calls(h, h.bob)
            #expect(bobs.count == 1 && bobs[0]["end_user"] as? String == "bobs-customer")
        }
    }

    @Test("an administrator reads everyone's calls without others' conversations, keys and end users; others get 403")
    func everyone() async throws {
        try await Harness.run(budgets: true) { h in
            let conversation = try await h.newConversation(h.bob)
            #expect(try await h.send(conversation, token: h.bob).last?.event == "done")
            #expect(try await h.post("/v1/chat/completions", token: h.bob, headers: ["x-sluice-tags": "bob-tag"], json: [
                "model": "sim", "user": "bobs-customer", "messages": [["role": "user", "content": "hi"]],
            ]).status == 200)
            #expect(try await h.post("/v1/chat/completions", token: h.alice, json: [
                "model": "sim", "messages": [["role": "user", "content": "hi"]],
            ]).status == 200)

            let all = try await Self.calls(h, h.alice, "?scope=all")
            #expect(all.map { Self.object($0["user"])?["name"] as? String } == ["alice", "bob", "bob"])
            // Alice's own call keeps its conversation; Bob's do not show theirs, nor his end user — but their tags.
            #expect(Self.object(all[0]["conversation"])?["id"] is String)
            #expect(all[1...].allSatisfy { $0["conversation"] is NSNull && $0["key"] is NSNull && $0["end_user"] is NSNull })
            #expect(all[1]["tags"] as? [String] == ["bob-tag"])
            #expect(try await Self.calls(h, h.alice, "?scope=all&user=bob").count == 2)
            #expect(try await Self.calls(h, h.alice, "?scope=all&tag=bob-tag").count == 1)
            #expect(try await h.request(.GET, "/api/usage/calls?scope=all&user=nobody", token: h.alice).status == 404)
            #expect(try await h.request(.GET, "/api/usage/calls?scope=all&end_user=bobs-customer", token: h.alice).status == 400)
            #expect(try await h.request(.GET, "/api/usage/calls?scope=all", token: h.bob).status == 403)

            // The spreadsheet: a row a call, Bob's conversation's title and end user left out.
            let csv = try await h.text("/api/usage/calls?scope=all&format=csv", token: h.alice)
            let lines = csv.split(separator: "\r\n")
            #expect(lines.count == 4 && lines[0].hasPrefix("at,user,model,outcome,input_tokens,"))
            #expect(lines[1].contains(",alice,sim,complete,") && lines[2].contains(",bob,sim,complete,"))
            #expect(!csv.contains("bobs-customer"))
            let own = try await h.text("/api/usage/calls?format=csv", token: h.bob)
            #expect(own.contains("bobs-customer") && own.split(separator: "\r\n").count == 3)
        }
    }
}
