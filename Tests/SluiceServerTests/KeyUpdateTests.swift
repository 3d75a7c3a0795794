import Foundation
import SluiceCore
import SluiceStore
import SluiceTestSupport
import Testing

@testable import SluiceServer

/// `PATCH /api/keys/{label}`: a key's terms change in place, its label and secret stay.
@Suite("API keys changed in place")
struct KeyUpdateTests {
    static let call = #"{"model":"sim","messages":[{"role":"user","content":"hello"}],"stream":false}"#

    @Test("a raised limit applies at once, null removes one, an expired key gets more time; a key cannot change keys",
          arguments: TestDatabases.backends)
    func update(database: StoreBackend) async throws {
        try await Harness.run(budgets: true, database: database) { h in
            let made = try await h.request(.POST, "/api/keys", token: h.alice, body: #"{"label":"ci","requests_per_minute":1}"#)
            let key = try #require(made.json?["key"] as? String)
            #expect(try await h.request(.POST, "/v1/chat/completions", token: key, body: Self.call).status == 200)
            #expect(try await h.request(.POST, "/v1/chat/completions", token: key, body: Self.call).status == 429)

            let raised = try await h.request(
                .PATCH, "/api/keys/ci", token: h.alice, body: #"{"requests_per_minute":5,"daily_usd":"1"}"#)
            #expect(raised.status == 200, "\(raised.json ?? [:])")
            #expect(raised.json?["label"] as? String == "ci" && raised.json?["requests_per_minute"] as? Int == 5)
            #expect(raised.json?["daily_usd_limit"] as? String == "1" && raised.json?["turns"] as? Int == 1)
            #expect(raised.json?["key"] == nil, "never the secret")
            // The same secret, under the new limit, at once.
            let again = try await h.request(.POST, "/v1/chat/completions", token: key, body: Self.call)
            #expect(again.status == 200 && again.headers.first(name: "x-ratelimit-limit-requests") == "5")

            let removed = try await h.request(.PATCH, "/api/keys/ci", token: h.alice, body: #"{"requests_per_minute":null}"#)
            #expect(removed.status == 200 && removed.json?["requests_per_minute"] == nil && removed.json?["daily_usd_limit"] as? String == "1")
            let listed = try #require(try await h.request(.GET, "/api/keys", token: h.alice).json?["keys"] as? [[String: Any]])
            #expect(listed.first?["requests_per_minute"] == nil && listed.first?["daily_usd_limit"] as? String == "1")

            // A key may not change keys, its own included; bad or empty changes and unknown labels say what is wrong.
            let byKey = try await h.request(.PATCH, "/api/keys/ci", token: key, body: #"{"daily_usd":"100"}"#)
            #expect(byKey.status == 403)
            let empty = try await h.request(.PATCH, "/api/keys/ci", token: h.alice, body: "{}")
            #expect(empty.status == 400 && empty.errorMessage?.contains("Name what to change") == true)
            #expect(empty.errorMessage?.contains("or tags") == true)
            let badModel = try await h.request(.PATCH, "/api/keys/ci", token: h.alice, body: #"{"models":["nope"]}"#)
            #expect(badModel.status == 400 && badModel.errorMessage?.contains("'nope' is not one of your models") == true)
            let badRate = try await h.request(.PATCH, "/api/keys/ci", token: h.alice, body: #"{"tokens_per_minute":0}"#)
            #expect(badRate.status == 400 && badRate.errorMessage?.contains("tokens_per_minute") == true)
            #expect(try await h.request(.PATCH, "/api/keys/nope", token: h.alice, body: #"{"daily_usd":"1"}"#).status == 404)

            // An expired key given more time works again, with its old secret.
            let alice = try #require(try await h.store.user(named: "alice"))
            let old = AccessToken.generate()
            _ = try await h.store.addAPIKey(
                userID: alice.id, label: "old job", tokenHash: AccessToken.hash(old), expiresAt: Date().addingTimeInterval(-60))
            #expect(try await h.request(.GET, "/v1/models", token: old).status == 401)
            let extended = try await h.request(.PATCH, "/api/keys/old%20job", token: h.alice, body: #"{"expires_in_days":7}"#)
            let expires = try #require((extended.json?["expires_at"] as? String).flatMap { try? Date($0, strategy: .iso8601) })
            #expect(abs(expires.timeIntervalSinceNow - 7 * 86_400) < 60)
            #expect(try await h.request(.GET, "/v1/models", token: old).status == 200)

            // A revoked key cannot be changed back into use.
            #expect(try await h.request(.DELETE, "/api/keys/ci", token: h.alice).status == 204)
            #expect(try await h.request(.PATCH, "/api/keys/ci", token: h.alice, body: #"{"daily_usd":"1"}"#).status == 404)
        }
    }
}
