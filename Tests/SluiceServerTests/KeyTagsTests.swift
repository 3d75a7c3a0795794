import Foundation
import SluiceCore
import SluiceStore
import SluiceTestSupport
import Testing

@testable import SluiceServer

/// A labelled key's tags (`APIKey.tags`, LiteLLM's key tags): set when it is made or changed, carried by each of its
/// calls in front of the call's own.
@Suite("Key tags")
struct KeyTagsTests {
    static func calls(_ h: Harness) async throws -> [[String]] {
        let reply = try await h.request(.GET, "/api/usage/calls", token: h.alice)
        return try #require(reply.json?["calls"] as? [[String: Any]]).map { $0["tags"] as? [String] ?? ["?"] }
    }

    @Test("a key's tags go with each of its calls, the gateway's and the web API's, before the call's own; changed or removed in place",
          arguments: TestDatabases.backends)
    func carried(_ backend: StoreBackend) async throws {
        try await Harness.run(budgets: true, database: backend) { h in
            let made = try await h.request(.POST, "/api/keys", token: h.alice, body: #"{"label":"ci","tags":[" ci ","nightly","ci"]}"#)
            #expect(made.status == 201 && made.json?["tags"] as? [String] == ["ci", "nightly"], "\(made.status) \(made.errorMessage ?? "")")
            let key = try #require(made.json?["key"] as? String)
            #expect(try await h.post("/v1/chat/completions", token: key, headers: ["x-sluice-tags": "checkout,nightly"], json: [
                "model": "sim", "messages": [["role": "user", "content": "hi"]],
            ]).status == 200)
            let conversation = try await h.newConversation(key)
            #expect(try await h.send(conversation, token: key).last?.event == "done")
            // The user's own token carries none.
            #expect(try await h.post("/v1/chat/completions", token: h.alice, json: [
                "model": "sim", "messages": [["role": "user", "content": "hi"]],
            ]).status == 200)
            #expect(try await Self.calls(h) == [[], ["ci", "nightly"], ["ci", "nightly", "checkout"]])
            let listed = try #require(try await h.request(.GET, "/api/keys", token: h.alice).json?["keys"] as? [[String: Any]])
            #expect(listed.first?["tags"] as? [String] == ["ci", "nightly"])

            // Text with commas, as the web app's field sends it; then none.
            #expect(try await h.request(.PATCH, "/api/keys/ci", token: h.alice, body: #"{"tags":"eu, prod"}"#).json?["tags"] as? [String] == ["eu", "prod"])
            let stored = try await h.store.apiKeys(userID: try #require(try await h.store.user(named: "alice")).id)
            #expect(stored.first?.tags == ["eu", "prod"])
            #expect(try await h.store.credential(tokenHash: AccessToken.hash(key))?.keyTags == ["eu", "prod"])
            #expect(try await h.request(.PATCH, "/api/keys/ci", token: h.alice, body: #"{"tags":null}"#).status == 200)
            #expect(try await h.store.credential(tokenHash: AccessToken.hash(key))?.keyTags == [])

            // A tag that breaks the rule is named; nothing is made.
            let bad = try await h.request(.POST, "/api/keys", token: h.alice, body: #"{"label":"bad","tags":["a\nb"]}"#)
            #expect(bad.status == 400 && bad.errorMessage?.contains("'tags' must be") == true)
            #expect(try await h.request(.POST, "/api/keys", token: h.alice, body: #"{"label":"bad","tags":5}"#).status == 400)
            #expect(try await h.request(.GET, "/api/keys", token: h.alice).json.flatMap { ($0["keys"] as? [Any])?.count } == 1)

            // The audit log has each change of the key's tags.
            let log = try #require(try await h.request(.GET, "/api/admin/audit-log?kind=key", token: h.alice).json?["entries"] as? [[String: Any]])
            let changes = log.compactMap { $0["changes"] as? [[String: Any]] }.flatMap { $0 }
                .filter { $0["field"] as? String == "tags" }.map { "\($0["from"] as? String ?? "none") → \($0["to"] as? String ?? "none")" }
            #expect(changes == ["eu, prod → none", "ci, nightly → eu, prod", "none → ci, nightly"])
        }
    }
}
