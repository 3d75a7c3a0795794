import Foundation
import SluiceCore
import SluiceStore
import SluiceTestSupport
import Testing

@testable import SluiceServer

/// `/api/keys`: a user makes, lists and revokes their own labelled keys; a key cannot manage keys.
@Suite("API keys managed by their user")
struct KeyRoutesTests {
    @Test("a key made on the API is shown once, acts as its user, counts its usage, and stops at once when revoked")
    func lifecycle() async throws {
        try await Harness.run(budgets: true) { h in
            let made = try await h.request(.POST, "/api/keys", token: h.alice, body: #"{"label":"  alice laptop  "}"#)
            #expect(made.status == 201)
            #expect(made.headers.first(name: "Cache-Control") == "no-store")
            let key = try #require(made.json?["key"] as? String)
            #expect(key.hasPrefix("sluice_") && made.json?["label"] as? String == "alice laptop")

            // The key acts as Alice: what it makes is hers, and its turns are its own usage.
            let body = #"{"model":"sim","messages":[{"role":"user","content":"hi"}]}"#
            let call = try await h.request(.POST, "/v1/chat/completions", token: key, body: body)
            #expect(call.status == 200)
            let conversation = try #require(call.headers.first(name: "X-Sluice-Conversation-Id"))
            #expect(try await h.request(.GET, "/api/conversations/\(conversation)", token: h.alice).status == 200)
            let listed = try await h.request(.GET, "/api/keys", token: h.alice)
            let keys = try #require(listed.json?["keys"] as? [[String: Any]])
            #expect(keys.count == 1 && keys.first?["label"] as? String == "alice laptop")
            #expect(keys.first?["turns"] as? Int == 1 && (keys.first?["total_tokens"] as? Int ?? 0) > 0)
            #expect(keys.first?["last_turn_at"] is String && keys.first?["revoked_at"] == nil)
            // The secret is never listed again.
            let listedText = String(decoding: try JSONSerialization.data(withJSONObject: try #require(listed.json)), as: UTF8.self)
            #expect(!listedText.contains(String(key.dropFirst("sluice_".count))))
            #expect((try await h.request(.GET, "/api/keys", token: h.bob).json?["keys"] as? [Any])?.isEmpty == true)

            // A key may list keys but not add or revoke them.
            let seenByKey = try await h.request(.GET, "/api/keys", token: key)
            #expect(seenByKey.status == 200 && seenByKey.json?["current_key"] as? String == "alice laptop")
            #expect(listed.json?["current_key"] == nil)
            let minted = try await h.request(.POST, "/api/keys", token: key, body: #"{"label":"more"}"#)
            #expect(minted.status == 403 && minted.errorMessage?.contains("own token") == true)
            #expect(try await h.request(.DELETE, "/api/keys/alice%20laptop", token: key).status == 403)
            // Bob has no key with that label; Alice's stays.
            #expect(try await h.request(.DELETE, "/api/keys/alice%20laptop", token: h.bob).status == 404)

            // Revoked here, it stops working at once although the server had just seen it.
            #expect(try await h.request(.DELETE, "/api/keys/alice%20laptop", token: h.alice).status == 204)
            #expect(try await h.request(.GET, "/v1/models", token: key).status == 401)
            #expect(try await h.request(.DELETE, "/api/keys/alice%20laptop", token: h.alice).status == 404)
            let afterwards = try #require(try await h.request(.GET, "/api/keys", token: h.alice).json?["keys"] as? [[String: Any]])
            #expect(afterwards.first?["revoked_at"] is String && afterwards.first?["turns"] as? Int == 1)
            #expect(try await h.request(.GET, "/v1/models", token: h.alice).status == 200)
        }
    }

    @Test("a label is one line of 1 to 100 characters, unique among the user's keys; a bad one is a 400 that says so")
    func labels() async throws {
        try await Harness.run { h in
            #expect(try await h.request(.POST, "/api/keys", token: h.alice, body: #"{"label":"ci"}"#).status == 201)
            let taken = try await h.request(.POST, "/api/keys", token: h.alice, body: #"{"label":" ci"}"#)
            #expect(taken.status == 409 && taken.errorCode == "label_taken")
            // Another user may use the same label.
            #expect(try await h.request(.POST, "/api/keys", token: h.bob, body: #"{"label":"ci"}"#).status == 201)
            let long = String(repeating: "k", count: 101)
            for bad in [#"{"label":"   "}"#, #"{"label":"a\nb"}"#, #"{"label":"\#(long)"}"#, #"{"label":7}"#, "{}", "[]"] {
                let reply = try await h.request(.POST, "/api/keys", token: h.alice, body: bad)
                #expect(reply.status == 400, "\(bad)")
                #expect(reply.errorMessage?.contains("label") == true || reply.errorMessage?.contains("JSON object") == true, "\(bad)")
            }
            #expect((try await h.request(.GET, "/api/keys", token: h.alice).json?["keys"] as? [Any])?.count == 1)

            // At most 100 working keys: revoking one makes room.
            let alice = try #require(try await h.store.user(named: "alice"))
            for index in 1..<KeyRoutes.mostWorkingKeys {
                _ = try await h.store.addAPIKey(userID: alice.id, label: "bulk \(index)", tokenHash: "hash \(index)")
            }
            let tooMany = try await h.request(.POST, "/api/keys", token: h.alice, body: #"{"label":"one more"}"#)
            #expect(tooMany.status == 409 && tooMany.errorCode == "too_many_keys" && tooMany.errorMessage?.contains("Revoke one") == true)
            #expect(try await h.request(.DELETE, "/api/keys/bulk%201", token: h.alice).status == 204)
            #expect(try await h.request(.POST, "/api/keys", token: h.alice, body: #"{"label":"one more"}"#).status == 201)
        }
    }

    @Test("a key may be made to expire; past its time it is a 401 that names it and says when, on every route")
    func expiry() async throws {
        try await Harness.run { h in
            let made = try await h.request(.POST, "/api/keys", token: h.alice, body: #"{"label":"job","expires_in_days":30}"#)
            #expect(made.status == 201)
            let expires = try #require((made.json?["expires_at"] as? String).flatMap { try? Date($0, strategy: .iso8601) })
            #expect(abs(expires.timeIntervalSinceNow - 30 * 86_400) < 60)
            for bad in [#"{"label":"a","expires_in_days":0}"#, #"{"label":"b","expires_in_days":1.5}"#,
                        #"{"label":"c","expires_in_days":4000}"#, #"{"label":"d","expires_in_days":"30"}"#] {
                let reply = try await h.request(.POST, "/api/keys", token: h.alice, body: bad)
                #expect(reply.status == 400 && reply.errorMessage?.contains("expires_in_days") == true, "\(bad)")
            }

            let alice = try #require(try await h.store.user(named: "alice"))
            let key = AccessToken.generate()
            _ = try await h.store.addAPIKey(
                userID: alice.id, label: "old job", tokenHash: AccessToken.hash(key), expiresAt: Date().addingTimeInterval(-60))
            for path in ["/api/conversations", "/v1/models"] {
                let refused = try await h.request(.GET, path, token: key)
                #expect(refused.status == 401 && refused.errorCode == "key_expired", "\(path)")
                #expect(refused.errorMessage?.contains("'old job' expired at") == true, "\(path)")
            }
            // Anthropic's SDKs get their error shape, with the same message.
            let messages = try await h.request(
                .POST, "/v1/messages", token: key,
                body: #"{"model":"sim","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}"#)
            #expect(messages.status == 401)
            #expect((messages.json?["error"] as? [String: Any])?["type"] as? String == "authentication_error")
            #expect(messages.errorMessage?.contains("'old job' expired at") == true, "\(messages.json ?? [:])")
            let listed = try #require(try await h.request(.GET, "/api/keys", token: h.alice).json?["keys"] as? [[String: Any]])
            #expect(listed.map { $0["expires_at"] != nil } == [true, true])
        }
    }

    @Test("a key limited to some models lists, defaults to and answers only those, within its user's own models")
    func models() async throws {
        try await Harness.run(listedModels: ["sim", "sim-echo", "sim-markdown"]) { h in
            let made = try await h.request(
                .POST, "/api/keys", token: h.alice, body: #"{"label":"cheap","models":["sim-echo","sim-markdown","sim-echo"]}"#)
            #expect(made.status == 201 && made.json?["models"] as? [String] == ["sim-echo", "sim-markdown"])
            let key = try #require(made.json?["key"] as? String)
            let listed = try await h.request(.GET, "/v1/models", token: key)
            #expect((listed.json?["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["sim-echo", "sim-markdown"])
            let refused = try await h.request(
                .POST, "/v1/chat/completions", token: key, body: #"{"model":"sim","messages":[{"role":"user","content":"hi"}]}"#)
            #expect(refused.status == 403 && refused.errorCode == "model_not_allowed")
            // A call naming no model goes to the key's first.
            let unnamed = try await h.request(.POST, "/v1/chat/completions", token: key, body: #"{"messages":[{"role":"user","content":"hi"}]}"#)
            #expect(unnamed.status == 200 && unnamed.json?["model"] as? String == "sim-echo")
            // Alice's own token keeps every model.
            #expect((try await h.request(.GET, "/v1/models", token: h.alice).json?["data"] as? [Any])?.count == 3)
            #expect((try await h.request(.GET, "/api/keys", token: h.alice).json?["keys"] as? [[String: Any]])?.first?["models"]
                as? [String] == ["sim-echo", "sim-markdown"])

            // Only models the user may use; a list of names, not empty. (Bob's limit is set before his first request: the
            // server keeps a user it has seen for a few seconds.)
            let bob = try #require(try await h.store.user(named: "bob"))
            try await h.store.setAllowedModels(userID: bob.id, models: ["sim", "sim-echo"])
            for (body, says) in [(#"{"label":"a","models":["sim-markdown"]}"#, "'sim-markdown' is not one of your models"),
                                 (#"{"label":"b","models":["nope"]}"#, "'nope' is not one of your models"),
                                 (#"{"label":"c","models":[]}"#, "list of model names"),
                                 (#"{"label":"d","models":"sim"}"#, "list of model names"),
                                 (#"{"label":"e","models":[7]}"#, "list of model names")] {
                let reply = try await h.request(.POST, "/api/keys", token: h.bob, body: body)
                #expect(reply.status == 400 && reply.errorMessage?.contains(says) == true, "\(body): \(reply.errorMessage ?? "-")")
            }
            // A key whose models its user may no longer use may use none, and is told so.
            let stranded = AccessToken.generate()
            _ = try await h.store.addAPIKey(
                userID: bob.id, label: "old", tokenHash: AccessToken.hash(stranded), expiresAt: nil, allowedModels: ["sim-markdown"])
            #expect((try await h.request(.GET, "/v1/models", token: stranded).json?["data"] as? [Any])?.isEmpty == true)
            let none = try await h.request(
                .POST, "/v1/chat/completions", token: stranded, body: #"{"messages":[{"role":"user","content":"hi"}]}"#)
            #expect(none.status == 403 && none.errorMessage?.contains("It may use no model now") == true, "\(none.errorMessage ?? "-")")
        }
    }

    @Test("a key's own daily limit: its calls end in a 429 that names it, while the user's token and other keys go on",
          arguments: TestDatabases.backends)
    func dailyLimit(database: StoreBackend) async throws {
        try await Harness.run(turn: BudgetTests.exactTurn, budgets: true, database: database, catalog: BudgetTests.pricedCatalog) { h in
            // About two calls' worth: each answers 24 tokens, $0.00024 of output at $10 per million.
            let made = try await h.request(.POST, "/api/keys", token: h.alice, body: #"{"label":"ci","daily_usd":"0.0006"}"#)
            #expect(made.status == 201 && made.json?["daily_usd_limit"] as? String == "0.0006")
            let key = try #require(made.json?["key"] as? String)
            let other = try #require(
                try await h.request(.POST, "/api/keys", token: h.alice, body: #"{"label":"laptop"}"#).json?["key"] as? String)
            let body = #"{"model":"sim","messages":[{"role":"user","content":"hello"}]}"#
            var statuses: [Int] = []
            var refusal: Harness.Reply?
            while refusal == nil, statuses.count < 6 {
                let reply = try await h.request(.POST, "/v1/chat/completions", token: key, body: body)
                statuses.append(reply.status)
                if reply.status != 200 { refusal = reply }
            }
            // Two whole answers, a third cut to what the money allows, then the refusal.
            #expect(statuses == [200, 200, 200, 429])
            let refused = try #require(refusal)
            #expect(refused.errorCode == "budget_exceeded")
            #expect(refused.errorMessage?.contains("The API key 'ci' has spent $0.0006 of the $0.0006 it may spend a day") == true,
                    "\(refused.errorMessage ?? "-")")
            #expect(refused.headers.first(name: "x-should-retry") == "false")
            let details = try #require((refused.json?["error"] as? [String: Any])?["key_daily_usd"] as? [String: Any])
            #expect(details["name"] as? String == "ci" && details["level"] as? String == "exceeded")
            // The user's own token and another key are not held to this key's day.
            #expect(try await h.request(.POST, "/v1/chat/completions", token: h.alice, body: body).status == 200)
            #expect(try await h.request(.POST, "/v1/chat/completions", token: other, body: body).status == 200)
            let listed = try #require(try await h.request(.GET, "/api/keys", token: h.alice).json?["keys"] as? [[String: Any]])
            #expect(listed.first?["daily_usd_limit"] as? String == "0.0006" && listed.first?["spent_today_usd"] as? String == "0.0006")
            #expect(listed.last?["daily_usd_limit"] == nil && listed.last?["spent_today_usd"] == nil)
            for bad in [#"{"label":"x","daily_usd":"0"}"#, #"{"label":"y","daily_usd":"-1"}"#, #"{"label":"z","daily_usd":"lots"}"#] {
                let reply = try await h.request(.POST, "/api/keys", token: h.alice, body: bad)
                #expect(reply.status == 400 && reply.errorMessage?.contains("daily_usd") == true, "\(bad)")
            }
        }
    }

    @Test("a key's own rate limits: within its user's, the tighter paces the headers; over the key's it is a 429 that names it",
          arguments: TestDatabases.backends)
    func rateLimits(database: StoreBackend) async throws {
        try await Harness.run(budgets: true, database: database) { h in
            let alice = try #require(try await h.store.user(named: "alice"))
            try await h.store.setRateLimit(.requests, userID: alice.id, limit: 10)
            let made = try await h.request(
                .POST, "/api/keys", token: h.alice, body: #"{"label":"ci","requests_per_minute":2,"max_parallel_requests":4}"#)
            #expect(made.status == 201 && made.json?["requests_per_minute"] as? Int == 2 && made.json?["max_parallel_requests"] as? Int == 4)
            #expect(made.json?["tokens_per_minute"] == nil)
            let key = try #require(made.json?["key"] as? String)
            let body = #"{"model":"sim","messages":[{"role":"user","content":"hello"}],"stream":false}"#
            let first = try await h.request(.POST, "/v1/chat/completions", token: key, body: body)
            #expect(first.status == 200)
            // The key's 2 a minute is tighter than the user's 10: the client paces itself by it.
            #expect(first.headers.first(name: "x-ratelimit-limit-requests") == "2")
            #expect(first.headers.first(name: "x-ratelimit-remaining-requests") == "1")
            #expect(try await h.request(.POST, "/v1/chat/completions", token: key, body: body).status == 200)
            let refused = try await h.request(.POST, "/v1/chat/completions", token: key, body: body)
            #expect(refused.status == 429 && refused.errorCode == "rate_limit_exceeded")
            #expect(refused.errorMessage?.contains("The API key 'ci' has sent 2 requests in the last minute, the most it may send (2 a minute)") == true,
                    "\(refused.errorMessage ?? "-")")
            #expect(refused.headers.first(name: "x-ratelimit-remaining-requests") == "0")
            #expect(Int(refused.headers.first(name: "Retry-After") ?? "").map { (1...60).contains($0) } == true)
            let details = try #require((refused.json?["error"] as? [String: Any])?["rate_limit"] as? [String: Any])
            #expect(details["key"] as? String == "ci" && details["limit"] as? String == "requests")
            // The user's own token has 7 of its 10 left: the key's refusal made no request.
            let own = try await h.request(.POST, "/v1/chat/completions", token: h.alice, body: body)
            #expect(own.status == 200 && own.headers.first(name: "x-ratelimit-remaining-requests") == "7")
            let listed = try #require(try await h.request(.GET, "/api/keys", token: h.alice).json?["keys"] as? [[String: Any]])
            #expect(listed.first?["requests_per_minute"] as? Int == 2 && listed.first?["max_parallel_requests"] as? Int == 4)
            // Its use of them now, as its next hold counts it: the two granted calls, nothing running.
            #expect(listed.first?["requests_last_minute"] as? Int == 2 && listed.first?["running_requests"] as? Int == 0)
            #expect(listed.first?["tokens_last_minute"] == nil)
            // A limit of tokens set now counts the minute's turns made before it.
            let paced = try await h.request(.PATCH, "/api/keys/ci", token: h.alice, body: #"{"tokens_per_minute":100000}"#)
            #expect(paced.status == 200 && (paced.json?["tokens_last_minute"] as? Int ?? 0) > 0, "\(String(describing: paced.json))")
            _ = try await h.request(.POST, "/api/keys", token: h.alice, body: #"{"label":"free"}"#)
            let free = try #require(try await h.request(.GET, "/api/keys", token: h.alice).json?["keys"] as? [[String: Any]])
                .first { $0["label"] as? String == "free" }
            #expect(free?["requests_last_minute"] == nil && free?["running_requests"] == nil)
            for bad in [#""requests_per_minute":0"#, #""tokens_per_minute":1.5"#, #""max_parallel_requests":"2""#,
                        #""requests_per_minute":-3"#, #""tokens_per_minute":1000000000"#] {
                let reply = try await h.request(.POST, "/api/keys", token: h.alice, body: #"{"label":"bad","# + bad + "}")
                #expect(reply.status == 400 && reply.errorMessage?.contains("whole number from 1") == true, "\(bad)")
            }
        }
    }
}

