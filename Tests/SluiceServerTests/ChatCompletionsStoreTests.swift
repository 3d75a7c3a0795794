import Foundation
import SluiceCore
import SluiceTestSupport
import Testing

/// `store: false` on `POST /v1/chat/completions`: answered and charged as any call, then kept nowhere — as the
/// Responses API's `store: false` (whose machinery it shares). Without it, or with `true`, the call is kept.
@Suite("Chat completions made with store: false")
struct ChatCompletionsStoreTests {
    @Test("whole and streamed: answered, charged, and nothing of it left; the default keeps it", arguments: TestDatabases.backends)
    func notKept(database: StoreBackend) async throws {
        try await Harness.run(budgets: true, database: database) { h in
            let question: [[String: Any]] = [["role": "user", "content": "Name a river."]]
            for stream in [false, true] {
                let reply = try await h.post(
                    "/v1/chat/completions", token: h.alice,
                    json: ["model": "sim", "messages": question, "store": false, "stream": stream])
                #expect(reply.status == 200, "\(reply.text)")
                #expect(reply.text.contains("\"content\""))
                let conversationID = try #require(reply.headers.first(name: "X-Sluice-Conversation-Id"))
                let messageID = try #require(reply.headers.first(name: "X-Sluice-Message-Id"))
                #expect(try await h.store.conversation(id: conversationID) == nil)
                #expect(try await h.store.message(id: messageID) == nil)
            }
            #expect(try await ResponsesStoreTests.conversations(h).isEmpty)
            // What the calls cost stays in the ledger.
            let alice = try #require(try await h.store.user(named: "alice"))
            #expect(try await h.store.budget(userID: alice.id, now: Date()).used > 0)

            for store in [nil, true] as [Bool?] {
                var body: [String: Any] = ["model": "sim", "messages": question]
                if let store { body["store"] = store }
                let kept = try await h.post("/v1/chat/completions", token: h.alice, json: body)
                let conversationID = try #require(kept.headers.first(name: "X-Sluice-Conversation-Id"))
                #expect(try await h.store.conversation(id: conversationID) != nil)
            }
            #expect(try await ResponsesStoreTests.conversations(h).count == 2)
        }
    }
}
