import Foundation
import SluiceCore
import NIOHTTP1
import SluiceServer
import SluiceStore
import Testing

@Suite("Auth, ownership and validation")
struct AccessTests {
    @Test("no token or a wrong token is 401 with a JSON error")
    func unauthorized() async throws {
        try await Harness.run { h in
            for token in [nil, "sluice_wrong", ""] as [String?] {
                let reply = try await h.request(.GET, "/api/conversations", token: token)
                #expect(reply.status == 401)
                #expect(reply.errorCode == "unauthorized")
                #expect(reply.errorMessage?.contains("token") == true)
            }
        }
    }

    @Test("a labelled key acts as its user on the web API and the gateway; a key revoked before its first use is 401")
    func apiKeys() async throws {
        try await Harness.run { h in
            let alice = try #require(try await h.store.user(named: "alice"))
            let key = AccessToken.generate()
            _ = try await h.store.addAPIKey(userID: alice.id, label: "ci", tokenHash: AccessToken.hash(key))
            let conversation = try await h.newConversation(key)
            // Alice's own token sees what the key made: one user, two keys.
            #expect(try await h.request(.GET, "/api/conversations/\(conversation)", token: h.alice).status == 200)
            #expect(try await h.request(.GET, "/api/conversations/\(conversation)", token: h.bob).status == 403)
            let call = try await h.request(
                .POST, "/v1/chat/completions", token: key, body: #"{"model":"sim","messages":[{"role":"user","content":"hi"}]}"#)
            #expect(call.status == 200)
            let callConversation = try #require(call.headers.first(name: "X-Sluice-Conversation-Id"))
            #expect(try await h.store.conversation(id: callConversation)?.userID == alice.id)

            let revoked = AccessToken.generate()
            _ = try await h.store.addAPIKey(userID: alice.id, label: "old laptop", tokenHash: AccessToken.hash(revoked))
            #expect(try await h.store.revokeAPIKey(userID: alice.id, label: "old laptop"))
            #expect(try await h.request(.GET, "/api/conversations", token: revoked).status == 401)
            #expect(try await h.request(.GET, "/v1/models", token: revoked).status == 401)
        }
    }

    @Test("each turn counts for the key it was made with, on the gateway and the web API; usage per key names it")
    func usagePerKey() async throws {
        try await Harness.run(budgets: true) { h in
            let alice = try #require(try await h.store.user(named: "alice"))
            let key = AccessToken.generate()
            let ci = try await h.store.addAPIKey(userID: alice.id, label: "ci, nightly", tokenHash: AccessToken.hash(key))
            let body = #"{"model":"sim","messages":[{"role":"user","content":"hi"}]}"#
            for token in [key, key, h.alice] {
                #expect(try await h.request(.POST, "/v1/chat/completions", token: token, body: body).status == 200)
            }
            // A turn of the web API made with the key is the key's too.
            let conversation = try await h.newConversation(key)
            #expect(try await h.send(conversation, token: key).last?.event == "done")

            let byKey = try await h.request(.GET, "/api/usage?period=today&group=key", token: h.alice)
            #expect(byKey.status == 200)
            let rows = try #require(byKey.json?["series"] as? [[String: Any]])
            let turns = Dictionary(uniqueKeysWithValues: rows.map { ($0["key"] as? String ?? "?", $0["turns"] as? Int ?? 0) })
            #expect(turns == [ci.id: 3, "": 1])
            let keyRow = try #require(rows.first { $0["key"] as? String == ci.id })
            #expect(keyRow["label"] as? String == "ci, nightly")
            #expect((keyRow["last_turn_at"] as? String)?.hasPrefix("20") == true)
            // Bob sees none of it.
            let bobs = try await h.request(.GET, "/api/usage?period=today&group=key", token: h.bob)
            #expect((bobs.json?["series"] as? [Any])?.isEmpty == true)
            let csv = try await h.text("/api/usage?period=today&group=key&format=csv", token: h.alice)
            #expect(csv.hasPrefix("key,label,input_tokens,output_tokens,total_tokens,cost_usd,turns,cache_hits,saved_tokens,saved_cost_usd,rated_good,rated_bad,cached_input_tokens\r\n"))
            #expect(csv.contains("\r\n\(ci.id),\"ci, nightly\","))
        }
    }

    @Test("another user's conversation or message is 403 for every route; nothing changes")
    func forbidden() async throws {
        try await Harness.run { h in
            let conversation = try await h.newConversation(h.alice)
            let turn = try await h.send(conversation, token: h.alice)
            let messageID = try #require(turn.assistantID)
            let attempts: [(HTTPMethodName, String, String?)] = [
                (.GET, "/api/conversations/\(conversation)", nil),
                (.DELETE, "/api/conversations/\(conversation)", nil),
                (.PATCH, "/api/conversations/\(conversation)", "{\"title\":\"mine now\"}"),
                (.POST, "/api/conversations/\(conversation)/messages", "{\"content\":\"mine now\"}"),
                (.POST, "/api/messages/\(messageID)/cancel", nil),
                (.PUT, "/api/messages/\(messageID)/feedback", #"{"rating":"bad"}"#),
                (.DELETE, "/api/messages/\(messageID)/feedback", nil),
            ]
            for (method, path, body) in attempts {
                let reply = try await h.request(method.value, path, token: h.bob, body: body)
                #expect(reply.status == 403, "\(method) \(path)")
                #expect(reply.errorCode == "forbidden")
            }
            #expect(try await h.store.messages(conversationID: conversation).count == 2)
            #expect(try await h.store.message(id: messageID)?.feedback == nil)
            let bobsList = try await h.request(.GET, "/api/conversations", token: h.bob)
            #expect((bobsList.json?["conversations"] as? [Any])?.isEmpty == true)
        }
    }

    @Test("unknown ids are 404")
    func notFound() async throws {
        try await Harness.run { h in
            for (method, path) in [
                (HTTPMethodName.GET, "/api/conversations/nope"), (.DELETE, "/api/conversations/nope"),
                (.POST, "/api/conversations/nope/messages"), (.POST, "/api/messages/nope/cancel"),
            ] {
                let reply = try await h.request(method.value, path, token: h.alice, body: "{\"content\":\"x\"}")
                #expect(reply.status == 404, "\(path)")
                #expect(reply.errorCode == "not_found")
            }
        }
    }

    @Test("bad message bodies get a 4xx JSON error and store nothing", arguments: [
        ("{\"content\":\"\"}", 400), ("{\"content\":\"   \\n \"}", 400), ("{\"content\":42}", 400),
        ("{\"content\":[\"a\"]}", 400), ("{}", 400), ("not json", 400), ("[1,2]", 400),
        ("{\"content\":\"hi\",\"temperature\":1.5}", 400), ("{\"content\":\"hi\",\"temperature\":\"hot\"}", 400),
        ("{\"content\":\"hi\",\"model\":7}", 400),
    ])
    func validation(body: String, status: Int) async throws {
        try await Harness.run { h in
            let conversation = try await h.newConversation(h.alice)
            let reply = try await h.request(.POST, "/api/conversations/\(conversation)/messages", token: h.alice, body: body)
            #expect(reply.status == status)
            #expect(reply.errorCode == "invalid_request")
            #expect((reply.errorMessage?.count ?? 0) > 10)
            #expect(try await h.store.messages(conversationID: conversation).isEmpty)
        }
    }

    @Test("a body over 64 KiB is refused with 413")
    func tooLarge() async throws {
        try await Harness.run { h in
            let conversation = try await h.newConversation(h.alice)
            let big = "{\"content\":\"" + String(repeating: "a", count: 70 * 1024) + "\"}"
            let reply = try await h.request(.POST, "/api/conversations/\(conversation)/messages", token: h.alice, body: big)
            #expect(reply.status == 413)
            #expect(reply.errorCode == "too_large")
            #expect(try await h.store.messages(conversationID: conversation).isEmpty)
        }
    }

    @Test("the gateway takes a whole long conversation (1 MiB of history) and refuses a body over 32 MiB with 413")
    func gatewayTakesLongConversations() async throws {
        try await Harness.run { h in
            let turn = String(repeating: "word ", count: 2000)
            let history = (0..<110).map { #"{"role":"\#($0 % 2 == 0 ? "user" : "assistant")","content":"\#(turn)"},"# }.joined()
            let long = #"{"model":"sim","messages":["# + history + #"{"role":"user","content":"and now?"}]}"#
            #expect(long.utf8.count > 1 << 20)
            let answered = try await h.request(.POST, "/v1/chat/completions", token: h.alice, body: long)
            #expect(answered.status == 200)
            #expect((answered.json?["object"] as? String) == "chat.completion")
            let huge = #"{"model":"sim","messages":[{"role":"user","content":""# + String(repeating: "a", count: 33 << 20) + #""}]}"#
            let refused = try await h.request(.POST, "/v1/chat/completions", token: h.alice, body: huge)
            #expect(refused.status == 413)
            #expect(refused.errorCode == "too_large")
        }
    }

    @Test("conversations: create with defaults, list newest first, read with messages, delete")
    func conversationLifecycle() async throws {
        try await Harness.run { h in
            let created = try await h.request(.POST, "/api/conversations", token: h.alice, body: "{\"title\":\"Plans\",\"system_prompt\":\"Be kind\"}")
            #expect(created.status == 201)
            #expect(created.json?["title"] as? String == "Plans")
            #expect(created.json?["model"] as? String == "sim")
            #expect(created.json?["system_prompt"] as? String == "Be kind")
            #expect((created.json?["created_at"] as? String)?.hasSuffix("Z") == true)
            let first = try #require(created.json?["id"] as? String)
            let second = try await h.newConversation(h.alice)
            let list = try await h.request(.GET, "/api/conversations", token: h.alice)
            let ids = (list.json?["conversations"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
            #expect(ids == [second, first])
            let untitled = try await h.request(.GET, "/api/conversations/\(second)", token: h.alice)
            #expect(untitled.json?["title"] as? String == "New conversation")
            #expect((untitled.json?["messages"] as? [Any])?.isEmpty == true)
            let deleted = try await h.request(.DELETE, "/api/conversations/\(first)", token: h.alice)
            #expect(deleted.status == 204)
            #expect(try await h.request(.GET, "/api/conversations/\(first)", token: h.alice).status == 404)
            let badTitle = try await h.request(.POST, "/api/conversations", token: h.alice, body: "{\"title\":5}")
            #expect(badTitle.status == 400)
        }
    }

    @Test("health is open; readiness checks the store and the upstream")
    func health() async throws {
        try await Harness.run { h in
            #expect(try await h.request(.GET, "/healthz", token: nil).status == 200)
            let ready = try await h.request(.GET, "/readyz", token: nil)
            #expect(ready.status == 200)
            #expect(ready.json?["status"] as? String == "ready")
            let upstreams = try #require(ready.json?["upstreams"] as? [[String: Any]])
            #expect(upstreams.count == 1 && upstreams[0]["ready"] as? Bool == true && upstreams[0]["problem"] == nil)
        }
    }

    @Test("once Sluice is asked to stop, readiness says draining, so that a load balancer sends nothing new")
    func readinessWhileDraining() async throws {
        let drain = ShutdownDrain(grace: .seconds(3600))
        try await Harness.run(drain: drain) { h in
            #expect(try await h.request(.GET, "/readyz", token: nil).status == 200)
            drain.begin()
            let draining = try await h.request(.GET, "/readyz", token: nil)
            #expect(draining.status == 503)
            #expect(draining.json?["status"] as? String == "draining")
            #expect(draining.json?["active_generations"] as? Int == 0)
            // The process is still up, and what it serves still works while the running answers finish.
            #expect(try await h.request(.GET, "/healthz", token: nil).status == 200)
            #expect(try await h.request(.GET, "/api/conversations", token: h.alice).status == 200)
        }
    }
}

/// Method names for table-driven tests (AsyncHTTPClient's `HTTPMethod` is not `Sendable`-friendly in arguments).
enum HTTPMethodName: String, CustomStringConvertible {
    case GET, POST, DELETE, PATCH, PUT
    var description: String { rawValue }
    var value: HTTPMethod {
        switch self {
        case .GET: .GET
        case .POST: .POST
        case .DELETE: .DELETE
        case .PATCH: .PATCH
        case .PUT: .PUT
        }
    }
}
