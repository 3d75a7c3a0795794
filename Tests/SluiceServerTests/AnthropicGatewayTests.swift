import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SluiceCore
import SluiceTestSupport
import Testing

@Suite("Anthropic's Messages API on the gateway: POST /v1/messages")
struct AnthropicGatewayTests {
    /// One call with `x-api-key`, as Anthropic's SDKs send it.
    static func call(
        _ h: Harness, token: String, path: String = "/v1/messages", body: [String: Any]
    ) async throws -> (status: Int, headers: HTTPHeaders, text: String) {
        try await h.post(path, token: token, asAPIKey: true, headers: ["anthropic-version": "2023-06-01"], json: body)
    }

    static func object(_ text: String) -> [String: Any]? {
        try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
    }

    @Test("a whole message: Anthropic's shape, stored as a conversation with its system prompt and end user",
          arguments: TestDatabases.backends)
    func whole(database: StoreBackend) async throws {
        try await Harness.run(budgets: true, database: database) { h in
            let reply = try await Self.call(h, token: h.alice, body: [
                "model": "sim", "max_tokens": 200, "system": "Be brief.", "metadata": ["user_id": "customer-7"],
                "messages": [["role": "user", "content": [["type": "text", "text": "Hello"]]]],
            ])
            #expect(reply.status == 200)
            let message = try #require(Self.object(reply.text))
            #expect(message["type"] as? String == "message" && message["role"] as? String == "assistant")
            #expect((message["id"] as? String)?.hasPrefix("msg_") == true)
            #expect(message["stop_reason"] as? String == "end_turn")
            let content = try #require(message["content"] as? [[String: Any]])
            let text = try #require(content.first?["text"] as? String)
            #expect(content.count == 1 && content[0]["type"] as? String == "text" && !text.isEmpty)
            let usage = try #require(message["usage"] as? [String: Any])
            #expect((usage["input_tokens"] as? Int ?? 0) > 0 && (usage["output_tokens"] as? Int ?? 0) > 0)

            let conversationID = try #require(reply.headers.first(name: "X-Sluice-Conversation-Id"))
            let conversation = try #require(try await h.store.conversation(id: conversationID))
            #expect(conversation.systemPrompt == "Be brief." && conversation.endUser == "customer-7")
            #expect(try await h.store.messages(conversationID: conversationID).map(\.content) == ["Hello", text])

            // The client's next call, with the answer as history, continues the same conversation.
            let next = try await Self.call(h, token: h.alice, body: [
                "model": "sim", "max_tokens": 200, "system": "Be brief.", "metadata": ["user_id": "customer-7"],
                "messages": [["role": "user", "content": "Hello"], ["role": "assistant", "content": text], ["role": "user", "content": "More"]],
            ])
            #expect(next.status == 200 && next.headers.first(name: "X-Sluice-Conversation-Id") == conversationID)
        }
    }

    @Test("a streamed message: Anthropic's events in order, the text as stored")
    func streamed() async throws {
        // With budgets, so that the hold counts the input (without a known window or budget nothing counts it).
        try await Harness.run(budgets: true) { h in
            let reply = try await Self.call(h, token: h.alice, body: [
                "model": "sim", "max_tokens": 200, "stream": true, "messages": [["role": "user", "content": "Hello"]],
            ])
            #expect(reply.status == 200 && reply.headers.first(name: "Content-Type") == "text/event-stream")
            var parser = SSEParser()
            let events = parser.feed(Array(reply.text.utf8)[...])
            let names = events.map { $0.event ?? "" }
            #expect(Array(names.prefix(3)) == ["message_start", "content_block_start", "ping"])
            #expect(Array(names.suffix(3)) == ["content_block_stop", "message_delta", "message_stop"])
            #expect(names.dropFirst(3).dropLast(3).allSatisfy { $0 == "content_block_delta" } && names.count > 7)
            for event in events { #expect(Self.object(event.data)?["type"] as? String == event.event) }
            // The input as Sluice counted it for the hold comes first (the test tokenizer counts words: "Hello" and
            // the chat format's framing), the provider's own figure with the end.
            let start = try #require(events.first.flatMap { Self.object($0.data)?["message"] as? [String: Any] })
            #expect(((start["usage"] as? [String: Any])?["input_tokens"] as? Int ?? 0) > 0)
            let text = events.filter { $0.event == "content_block_delta" }
                .compactMap { (Self.object($0.data)?["delta"] as? [String: Any])?["text"] as? String }.joined()
            let delta = try #require(events.first { $0.event == "message_delta" }.flatMap { Self.object($0.data) })
            #expect((delta["delta"] as? [String: Any])?["stop_reason"] as? String == "end_turn")
            let messageID = try #require(reply.headers.first(name: "X-Sluice-Message-Id"))
            #expect(try await h.store.message(id: messageID)?.content == text)
        }
    }

    @Test("an earlier answer's thinking blocks, sent back by the client, are kept with it when Anthropic signed them; its text is the history")
    func thinkingBlocksInHistory() async throws {
        try await Harness.run(budgets: true) { h in
            let reply = try await Self.call(h, token: h.alice, body: [
                "model": "sim", "max_tokens": 1100, "thinking": ["type": "enabled", "budget_tokens": 1024],
                "messages": [
                    ["role": "user", "content": "Name a colour."],
                    ["role": "assistant", "content": [
                        ["type": "thinking", "thinking": "The user wants one colour.", "signature": "abc"],
                        ["type": "redacted_thinking", "data": "xyz"],
                        // Another model's thinking, as Sluice writes it: unsigned, so not Anthropic's to check.
                        ["type": "thinking", "thinking": "Blue is common.", "signature": ""],
                        ["type": "text", "text": "Blue."],
                    ]],
                    ["role": "user", "content": "Another?"],
                ],
            ])
            #expect(reply.status == 200, "\(reply.text)")
            let conversationID = try #require(reply.headers.first(name: "X-Sluice-Conversation-Id"))
            let stored = try await h.store.messages(conversationID: conversationID)
            #expect(Array(stored.prefix(3).map(\.content)) == ["Name a colour.", "Blue.", "Another?"])
            #expect(stored[1].signedThinking == [.thinking(text: "The user wants one colour.", signature: "abc"), .redacted(data: "xyz")])
        }
    }

    @Test("refusals and bad input are Anthropic's error objects with the status its SDKs map")
    func errors() async throws {
        try await Harness.run { h in
            let missing = try await Self.call(h, token: h.alice, body: ["model": "sim", "messages": [["role": "user", "content": "Hi"]]])
            #expect(missing.status == 400)
            let body = try #require(Self.object(missing.text))
            #expect(body["type"] as? String == "error")
            let error = try #require(body["error"] as? [String: Any])
            #expect(error["type"] as? String == "invalid_request_error")
            #expect((error["message"] as? String)?.contains("'max_tokens' is required") == true)

            let image = try await Self.call(h, token: h.alice, body: [
                "model": "sim", "max_tokens": 10,
                "messages": [["role": "user", "content": [["type": "image", "source": ["type": "base64"]]]]],
            ])
            #expect(image.status == 400 && image.text.contains("messages.0.content.0.source must be"))
            let document = try await Self.call(h, token: h.alice, body: [
                "model": "sim", "max_tokens": 10,
                "messages": [["role": "user", "content": [["type": "document", "source": ["type": "base64"]]]]],
            ])
            #expect(document.status == 400 && document.text.contains("of type 'document'"))
            #expect(try await Self.call(h, token: "sluice_wrong", body: [:]).status == 401)
            // The upstream's own 429 after Sluice's retries: Anthropic's rate_limit_error.
            let limited = try await Self.call(h, token: h.alice, body: [
                "model": "sim-429", "max_tokens": 10, "messages": [["role": "user", "content": "Hi"]],
            ])
            #expect(limited.status == 429)
            #expect((Self.object(limited.text)?["error"] as? [String: Any])?["type"] as? String == "rate_limit_error")
            #expect(try await h.store.conversations(userID: try #require(try await h.store.user(named: "alice")).id).count == 1)
        }
    }
}
