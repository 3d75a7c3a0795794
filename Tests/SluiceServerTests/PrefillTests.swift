import Foundation
import NIOHTTP1
import SluiceCore
import SluiceTestSupport
import Testing

/// A prefilled answer: a caller's final assistant message is the start of the answer, which the model continues
/// (Anthropic's prefill; Mistral's and DeepSeek's `prefix`; llama-server continues such a message by default). The
/// caller gets the continuation, as Anthropic answers; Sluice stores the whole answer, start and continuation, so
/// the conversation reads as it was meant and the caller's next call (sending the whole back) continues it.
@Suite("Prefilled answers")
struct PrefillTests {
    static func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
    }

    /// A Chat Completions answer's text, whole or streamed (its content deltas joined).
    static func chatText(_ reply: (status: Int, headers: HTTPHeaders, text: String), streamed: Bool) throws -> String {
        guard streamed else {
            let choice = try #require((try object(reply.text)["choices"] as? [[String: Any]])?.first)
            return try #require((choice["message"] as? [String: Any])?["content"] as? String)
        }
        return try reply.text.split(separator: "\n").filter { $0.hasPrefix("data: {") }.map { line in
            let chunk = try object(String(line.dropFirst(6)))
            return ((chunk["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["content"] as? String ?? ""
        }.joined()
    }

    /// A Messages API answer's text, whole or streamed (its `text_delta`s joined).
    static func messagesText(_ reply: (status: Int, headers: HTTPHeaders, text: String), streamed: Bool) throws -> String {
        guard streamed else {
            let blocks = try #require(try object(reply.text)["content"] as? [[String: Any]])
            return blocks.compactMap { $0["type"] as? String == "text" ? $0["text"] as? String : nil }.joined()
        }
        return try reply.text.split(separator: "\n").filter { $0.hasPrefix("data: {") }.map { line in
            let event = try object(String(line.dropFirst(6)))
            return (event["delta"] as? [String: Any])?["text"] as? String ?? ""
        }.joined()
    }

    static func storedAnswer(_ h: Harness, _ reply: (status: Int, headers: HTTPHeaders, text: String)) async throws -> Message {
        let id = try #require(reply.headers.first(name: "X-Sluice-Message-Id"))
        return try #require(try await h.store.message(id: id))
    }

    @Test("Chat Completions: the model continues the final assistant message; llama-server's repeat of it is taken off; the whole answer is stored",
          arguments: TestDatabases.backends)
    func chatCompletions(database: StoreBackend) async throws {
        try await Harness.run(database: database) { h in
            for streamed in [false, true] {
                let question = "Give me JSON \(streamed ? "streamed" : "whole")."
                // Trailing whitespace is dropped from the start: the model writes its own space.
                let messages: [[String: Any]] = [["role": "user", "content": question], ["role": "assistant", "content": "{\"a\":  "]]
                let reply = try await h.post(
                    "/v1/chat/completions", token: h.alice, headers: ["X-Sluice-Scenario": "echo"],
                    json: ["model": "sim", "messages": messages, "stream": streamed])
                #expect(reply.status == 200, "\(reply.text)")
                // The upstream got the start as the last message, and (as llama-server) said it again first: the caller
                // gets only what the model added.
                let text = try Self.chatText(reply, streamed: streamed)
                #expect(text == "user: \(question)\nassistant: {\"a\":\n")
                let answer = try await Self.storedAnswer(h, reply)
                #expect(answer.content == "{\"a\":" + text)
                #expect(answer.status == .complete)
                #expect(answer.tokenEnds.first == "{\"a\":".utf8.count)

                // The caller's next call sends the whole answer back: the same conversation goes on.
                let next = try await h.post(
                    "/v1/chat/completions", token: h.alice, headers: ["X-Sluice-Scenario": "echo"],
                    json: ["model": "sim", "messages": [
                        ["role": "user", "content": question], ["role": "assistant", "content": answer.content],
                        ["role": "user", "content": "Thanks."],
                    ]])
                #expect(next.status == 200, "\(next.text)")
                #expect(next.headers.first(name: "X-Sluice-Conversation-Id") == reply.headers.first(name: "X-Sluice-Conversation-Id"))
            }
        }
    }

    @Test("Chat Completions: an empty final assistant message (or one of spaces) asks nothing of the answer")
    func emptyStart() async throws {
        try await Harness.run { h in
            let empty = try await h.post(
                "/v1/chat/completions", token: h.alice, headers: ["X-Sluice-Scenario": "echo"],
                json: ["model": "sim", "messages": [["role": "user", "content": "Say it"], ["role": "assistant", "content": " "]]])
            #expect(empty.status == 200, "\(empty.text)")
            let text = try Self.chatText(empty, streamed: false)
            #expect(text == "user: Say it\n")
            #expect(try await Self.storedAnswer(h, empty).content == text)
        }
    }

    @Test("the Messages API: Anthropic continues the prefill (sent without trailing whitespace, which it refuses), without thinking; the whole is stored",
          arguments: TestDatabases.backends)
    func messages(database: StoreBackend) async throws {
        try await Harness.run(database: database, anthropic: true) { h in
            for streamed in [false, true] {
                let question = "Name three rivers, \(streamed ? "streamed" : "whole")."
                let reply = try await h.post(
                    "/v1/messages", token: h.alice, asAPIKey: true,
                    headers: ["anthropic-version": "2023-06-01", "X-Sluice-Scenario": "echo"],
                    json: [
                        "model": "sim", "max_tokens": 2000, "stream": streamed,
                        // A prefilled answer cannot think (Anthropic's rule): the call goes without it rather than fail.
                        "thinking": ["type": "enabled", "budget_tokens": 1024],
                        "messages": [["role": "user", "content": question], ["role": "assistant", "content": "Here they are:\n"]],
                    ])
                #expect(reply.status == 200, "\(reply.text)")
                let text = try Self.messagesText(reply, streamed: streamed)
                #expect(text == "user: \(question)\nassistant: Here they are:\n")
                #expect(!text.contains("thinking: budget"))
                let answer = try await Self.storedAnswer(h, reply)
                #expect(answer.content == "Here they are:" + text)
            }
        }
    }

    @Test("a final assistant message with calls is not a prefill: 400 asking for their results; an assistant message alone is no question")
    func refusals() async throws {
        try await Harness.run { h in
            let calling: [[String: Any]] = [
                ["role": "user", "content": "Look it up"],
                ["role": "assistant", "content": NSNull(), "tool_calls": [
                    ["id": "call_1", "type": "function", "function": ["name": "lookup", "arguments": "{}"]],
                ]],
            ]
            let pending = try await h.post("/v1/chat/completions", token: h.alice, json: ["model": "sim", "messages": calling])
            #expect(pending.status == 400)
            #expect(pending.text.contains("send their results"))

            let alone = try await h.post(
                "/v1/chat/completions", token: h.alice, json: ["model": "sim", "messages": [["role": "assistant", "content": "Hi"]]])
            #expect(alone.status == 400)
            #expect(alone.text.contains("must be the user's"))

            let tool = try await h.post(
                "/v1/messages", token: h.alice, asAPIKey: true, headers: ["anthropic-version": "2023-06-01"],
                json: ["model": "sim", "max_tokens": 100, "messages": [
                    ["role": "user", "content": "Look it up"],
                    ["role": "assistant", "content": [["type": "tool_use", "id": "toolu_1", "name": "lookup", "input": [:] as [String: Any]]]],
                ]])
            #expect(tool.status == 400)
            #expect(tool.text.contains("tool_result"))
            #expect(try await ResponsesStoreTests.conversations(h).isEmpty)
        }
    }

    @Test("count_tokens counts the prefill as input, as the call sends it")
    func counted() async throws {
        try await Harness.run(anthropic: true) { h in
            func count(_ messages: [[String: Any]]) async throws -> Int {
                let reply = try await h.post(
                    "/v1/messages/count_tokens", token: h.alice, asAPIKey: true, headers: ["anthropic-version": "2023-06-01"],
                    json: ["model": "sim", "messages": messages])
                #expect(reply.status == 200, "\(reply.text)")
                return try #require(try Self.object(reply.text)["input_tokens"] as? Int)
            }
            let question: [String: Any] = ["role": "user", "content": "Name a river."]
            let plain = try await count([question])
            let prefilled = try await count([question, ["role": "assistant", "content": "The longest one is"]])
            #expect(prefilled > plain)
        }
    }
}
