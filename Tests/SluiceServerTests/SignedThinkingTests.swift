import Foundation
import NIOHTTP1
import SluiceCore
import SluiceTokenizer
@testable import SluiceServer
@testable import SluiceSimulator
import SluiceTestSupport
import Testing

/// An Anthropic model thinks through a function-calling loop: its thinking comes back signed (a `thinking` block's
/// `signature`, LiteLLM's `thinking_blocks`), is stored with the answer, and goes back to Anthropic before the
/// answer's calls — from the caller's history or from Sluice's own copy. The simulator signs its thinking and, as
/// the API, refuses a thinking request whose last answer's calls come without it, and a block whose text or
/// signature was changed.
@Suite("Signed thinking through a function-calling loop")
struct SignedThinkingTests {
    typealias Reply = (status: Int, headers: HTTPHeaders, text: String)

    static var anthropicTools: [[String: Any]] { [["name": "lookup", "input_schema": ["type": "object"]]] }
    static var openAITools: [[String: Any]] {
        [["type": "function", "function": ["name": "lookup", "parameters": ["type": "object"]]]]
    }

    static func messages(_ h: Harness, _ body: [String: Any]) async throws -> Reply {
        try await h.post("/v1/messages", token: h.alice, asAPIKey: true, headers: ["anthropic-version": "2023-06-01"], json: body)
    }

    static func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
    }

    static func content(_ reply: Reply) throws -> [[String: Any]] {
        try #require(try object(reply.text)["content"] as? [[String: Any]], "\(reply.text)")
    }

    /// The Messages API's tool loop: a call, then its result with the answer's blocks as the client sends them back.
    static func loop(
        _ question: String, answer: [[String: Any]], endUser: String, thinks: Bool = true
    ) -> [String: Any] {
        let callID = answer.first { $0["type"] as? String == "tool_use" }?["id"] as? String ?? ""
        let result: [String: Any] = ["type": "tool_result", "tool_use_id": callID, "content": "42"]
        let messages: [[String: Any]] = [
            ["role": "user", "content": question], ["role": "assistant", "content": answer], ["role": "user", "content": [result]],
        ]
        let thinking: [String: Any] = thinks ? ["type": "enabled", "budget_tokens": 1024] : ["type": "disabled"]
        return [
            "model": "sim", "max_tokens": 2000, "tools": anthropicTools, "metadata": ["user_id": endUser],
            "thinking": thinking, "messages": messages,
        ]
    }

    @Test("the Messages API: the answer's thinking comes back signed, is stored, and lets the model think on its calls' results",
          arguments: TestDatabases.backends)
    func messagesLoop(database: StoreBackend) async throws {
        try await Harness.run(database: database, anthropic: true) { h in
            let first = try await Self.messages(h, [
                "model": "sim", "max_tokens": 2000, "tools": Self.anthropicTools, "metadata": ["user_id": "first"],
                "thinking": ["type": "enabled", "budget_tokens": 1024], "messages": [["role": "user", "content": "Find it"]],
            ])
            #expect(first.status == 200, "\(first.text)")
            let answer = try Self.content(first)
            try #require(answer.map { $0["type"] as? String } == ["thinking", "tool_use"])
            let thought = "Let me think about: Find it"
            #expect(answer[0]["thinking"] as? String == thought)
            #expect(answer[0]["signature"] as? String == ThinkingCheck.signature(of: thought))
            let messageID = try #require(first.headers.first(name: "X-Sluice-Message-Id"))
            let stored = try #require(try await h.store.message(id: messageID))
            #expect(stored.signedThinking == [.thinking(text: thought, signature: ThinkingCheck.signature(of: thought))])
            #expect(stored.reasoning == thought)

            // The client sends the answer back as it got it, with the call's result: the model thinks again.
            let second = try await Self.messages(h, Self.loop("Find it", answer: answer, endUser: "first"))
            #expect(second.status == 200, "\(second.text)")
            #expect(try Self.content(second).map { $0["type"] as? String } == ["thinking", "text"])
            // The same conversation goes on (the thread's key leaves thinking out).
            #expect(second.headers.first(name: "X-Sluice-Conversation-Id") == first.headers.first(name: "X-Sluice-Conversation-Id"))

            // A new conversation (another end user) whose history carries the signed thinking: kept with it, sent back.
            let fresh = try await Self.messages(h, Self.loop("Find it", answer: answer, endUser: "fresh"))
            #expect(fresh.status == 200, "\(fresh.text)")
            #expect(try Self.content(fresh).first?["type"] as? String == "thinking")
            let freshID = try #require(fresh.headers.first(name: "X-Sluice-Conversation-Id"))
            let history = try await h.store.messages(conversationID: freshID)
            #expect(history.first { $0.role == .assistant }?.signedThinking == stored.signedThinking)

            // Without it, the request goes without thinking rather than be refused.
            let bare = try await Self.messages(
                h, Self.loop("Find it", answer: answer.filter { $0["type"] as? String == "tool_use" }, endUser: "bare"))
            #expect(bare.status == 200, "\(bare.text)")
            #expect(try Self.content(bare).map { $0["type"] as? String } == ["text"])
            // The thinking sent back is input Anthropic reads: Sluice's count (the hold's) has it too.
            func counted(_ reply: (status: Int, headers: HTTPHeaders, text: String)) async throws -> Int {
                let id = try #require(reply.headers.first(name: "X-Sluice-Message-Id"))
                return try #require(try await h.store.message(id: id)?.usage?.countedInputTokens)
            }
            let thoughtTokens = try await ChatPromptCounter(tokenizer: WordTokenizer()).textTokens(thought)
            #expect(try await counted(fresh) - counted(bare) == thoughtTokens)

            // A block changed on the way is Anthropic's to refuse, in its words.
            var changed = answer
            changed[0]["thinking"] = "Let me think about something else"
            let refused = try await Self.messages(h, Self.loop("Find it", answer: changed, endUser: "changed"))
            #expect(refused.status == 400, "\(refused.text)")
            #expect(refused.text.contains("signature"), "\(refused.text)")
        }
    }

    @Test("streamed, the thinking block ends with its signature_delta before the tool_use block starts")
    func streamedSignature() async throws {
        try await Harness.run(anthropic: true) { h in
            let reply = try await Self.messages(h, [
                "model": "sim", "max_tokens": 2000, "stream": true, "tools": Self.anthropicTools,
                "thinking": ["type": "enabled", "budget_tokens": 1024], "messages": [["role": "user", "content": "Find it"]],
            ])
            #expect(reply.status == 200, "\(reply.text)")
            var parser = SSEParser()
            let events = try parser.feed(Array(reply.text.utf8)[...]).map { try Self.object($0.data) }
            let deltas = events.compactMap { $0["delta"] as? [String: Any] }
            let signature = try #require(deltas.first { $0["type"] as? String == "signature_delta" }?["signature"] as? String)
            #expect(signature == ThinkingCheck.signature(of: "Let me think about: Find it"))
            // In order: the thinking block starts, thinks, is signed and stops; then the call's block.
            let steps = events.compactMap { event -> String? in
                switch event["type"] as? String {
                case "content_block_start": "start \((event["content_block"] as? [String: Any])?["type"] as? String ?? "")"
                case "content_block_delta": (event["delta"] as? [String: Any])?["type"] as? String
                case "content_block_stop": "stop \(event["index"] as? Int ?? -1)"
                default: nil
                }
            }
            let compact = steps.reduce(into: [String]()) { if $0.last != $1 { $0.append($1) } }
            #expect(compact == [
                "start thinking", "thinking_delta", "signature_delta", "stop 0", "start tool_use", "input_json_delta", "stop 1",
            ])
        }
    }

    @Test("OpenAI's wire: thinking_blocks as LiteLLM returns and takes them, streamed and whole; Sluice's copy goes back when the caller leaves them out",
          arguments: TestDatabases.backends)
    func chatCompletionsLoop(database: StoreBackend) async throws {
        try await Harness.run(database: database, anthropic: true) { h in
            let ask: [String: Any] = [
                "model": "sim", "messages": [["role": "user", "content": "Find it"]], "tools": Self.openAITools, "reasoning_effort": "low",
            ]
            let first = try await h.post("/v1/chat/completions", token: h.alice, json: ask)
            let message = try GatewayReasoningEffortTests.message(first)
            let thought = try #require(message["reasoning_content"] as? String)
            let blocks = try #require(message["thinking_blocks"] as? [[String: Any]])
            try #require(blocks.count == 1)
            #expect(blocks[0]["type"] as? String == "thinking" && blocks[0]["thinking"] as? String == thought)
            #expect(blocks[0]["signature"] as? String == ThinkingCheck.signature(of: thought))
            let calls = try #require(message["tool_calls"] as? [[String: Any]])
            let id = try #require(calls.first?["id"] as? String)

            // Streamed: the whole block in a chunk of its own, after the thinking's pieces.
            let streamed = try await h.post("/v1/chat/completions", token: h.alice, json: ask.merging(["stream": true, "user": "s"]) { $1 })
            var parser = SSEParser()
            let deltas = parser.feed(Array(streamed.text.utf8)[...]).filter { $0.data != "[DONE]" }.compactMap {
                ((try? Self.object($0.data))?["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any]
            }
            let blockAt = try #require(deltas.firstIndex { $0["thinking_blocks"] != nil })
            #expect(deltas[..<blockAt].compactMap { $0["reasoning_content"] as? String }.joined() == thought)
            #expect(((deltas[blockAt]["thinking_blocks"] as? [[String: Any]])?.first?["signature"] as? String) == ThinkingCheck.signature(of: thought))
            #expect(deltas[(blockAt + 1)...].allSatisfy { $0["reasoning_content"] == nil })

            func history(blocks: [[String: Any]]?) -> [[String: Any]] {
                var answer: [String: Any] = ["role": "assistant", "content": NSNull(), "tool_calls": calls]
                if let blocks { answer["thinking_blocks"] = blocks }
                return [["role": "user", "content": "Find it"], answer, ["role": "tool", "tool_call_id": id, "content": "42"]]
            }
            // The caller sends them back (a new conversation: another end user): the model thinks on the results.
            let sentBack = try await h.post(
                "/v1/chat/completions", token: h.alice,
                json: ["model": "sim", "messages": history(blocks: blocks), "tools": Self.openAITools, "reasoning_effort": "low", "user": "b"])
            #expect(try GatewayReasoningEffortTests.message(sentBack)["reasoning_content"] as? String == "Let me think about: ")
            // The caller leaves them out, but continues the conversation Sluice stored: its copy goes back.
            let continued = try await h.post(
                "/v1/chat/completions", token: h.alice,
                json: ["model": "sim", "messages": history(blocks: nil), "tools": Self.openAITools, "reasoning_effort": "low"])
            #expect(continued.headers.first(name: "X-Sluice-Conversation-Id") == first.headers.first(name: "X-Sluice-Conversation-Id"))
            #expect(try GatewayReasoningEffortTests.message(continued)["reasoning_content"] as? String == "Let me think about: ")
        }
    }

    @Test("a redacted_thinking block comes back as Anthropic sent it and goes back unchanged")
    func redactedThinking() async throws {
        try await Harness.run(anthropic: true) { h in
            let question = "Find it " + ThinkingCheck.redactedTrigger
            let first = try await Self.messages(h, [
                "model": "sim", "max_tokens": 2000, "tools": Self.anthropicTools, "metadata": ["user_id": "r"],
                "thinking": ["type": "enabled", "budget_tokens": 1024], "messages": [["role": "user", "content": question]],
            ])
            let answer = try Self.content(first)
            try #require(answer.map { $0["type"] as? String } == ["redacted_thinking", "tool_use"])
            #expect(answer[0]["data"] as? String == ThinkingCheck.redactedData)
            let second = try await Self.messages(h, Self.loop(question, answer: answer, endUser: "r2"))
            #expect(second.status == 200, "\(second.text)")
            #expect(try Self.content(second).first?["type"] as? String == "thinking")
        }
    }

    @Test("thinking shown redacted is not signed: its block goes out without a signature, and nothing is kept to send back")
    func redactedBySluice() async throws {
        try await Harness.run(anthropic: true) { h in
            // The simulator thinks the question aloud; the upstream's key in it is redacted from the thinking shown.
            let first = try await Self.messages(h, [
                "model": "sim", "max_tokens": 2000, "tools": Self.anthropicTools,
                "thinking": ["type": "enabled", "budget_tokens": 1024],
                "messages": [["role": "user", "content": "Is sk-test-secret a key?"]],
            ])
            #expect(first.status == 200, "\(first.text)")
            let answer = try Self.content(first)
            try #require(answer.map { $0["type"] as? String } == ["thinking", "tool_use"])
            #expect((answer[0]["thinking"] as? String)?.contains("sk-test-secret") == false)
            #expect(answer[0]["signature"] as? String == "")
            let messageID = try #require(first.headers.first(name: "X-Sluice-Message-Id"))
            #expect(try await h.store.message(id: messageID)?.signedThinking == [])
        }
    }

    @Test("the Responses API: previous_response_id sends the stored answer's signed thinking back with its calls")
    func responsesLoop() async throws {
        try await Harness.run(anthropic: true) { h in
            let tools: [[String: Any]] = [["type": "function", "name": "lookup", "parameters": ["type": "object"]]]
            let asked = try await ResponsesGatewayTests.create(
                h, ["model": "sim", "input": "Find it", "tools": tools, "reasoning": ["effort": "low"]])
            let output = try #require(asked.json?["output"] as? [[String: Any]], "\(asked.text)")
            #expect(output.map { $0["type"] as? String } == ["reasoning", "function_call"])
            let id = try #require(asked.json?["id"] as? String)
            let callID = try #require(output.last?["call_id"] as? String)
            // Retrieved with `include` (as the SDKs send it), the stored item carries the signed thinking; without, none.
            let retrieved = try await h.request(.GET, "/v1/responses/\(id)?include%5B%5D=reasoning.encrypted_content", token: h.alice)
            let stored = try #require((retrieved.json?["output"] as? [[String: Any]])?.first)
            let encrypted = try #require(stored["encrypted_content"] as? String, "\(retrieved.json ?? [:])")
            #expect(encrypted.hasPrefix(ResponsesWire.encryptedPrefix))
            #expect(ResponsesWire.signedThinking(fromEncrypted: encrypted).isEmpty == false)
            let plain = try await h.request(.GET, "/v1/responses/\(id)", token: h.alice)
            #expect((plain.json?["output"] as? [[String: Any]])?.first?.keys.contains("encrypted_content") == false)
            let answered = try await ResponsesGatewayTests.create(h, [
                "model": "sim", "tools": tools, "reasoning": ["effort": "low"], "previous_response_id": id,
                "input": [["type": "function_call_output", "call_id": callID, "output": "42"]],
            ])
            #expect(answered.status == 200, "\(answered.text)")
            let items = try #require(answered.json?["output"] as? [[String: Any]])
            #expect(items.map { $0["type"] as? String } == ["reasoning", "message"])
        }
    }

    @Test("the Responses API without state (store: false, as Codex CLI works): reasoning items carry the signed thinking as encrypted_content, streamed and whole, and bring it back")
    func responsesStateless() async throws {
        try await Harness.run(anthropic: true) { h in
            let tools: [[String: Any]] = [["type": "function", "name": "lookup", "parameters": ["type": "object"]]]
            let ask: [String: Any] = [
                "model": "sim", "tools": tools, "reasoning": ["effort": "low"], "store": false,
                "include": ["reasoning.encrypted_content"],
            ]
            let asked = try await ResponsesGatewayTests.create(h, ask.merging(["input": "Find it"]) { $1 })
            let output = try #require(asked.json?["output"] as? [[String: Any]], "\(asked.text)")
            try #require(output.map { $0["type"] as? String } == ["reasoning", "function_call"])
            let encrypted = try #require(output[0]["encrypted_content"] as? String)
            #expect(ResponsesWire.signedThinking(fromEncrypted: encrypted) == [
                .thinking(text: "Let me think about: Find it", signature: ThinkingCheck.signature(of: "Let me think about: Find it")),
            ])
            // Not asked for, not given.
            let plain = try await ResponsesGatewayTests.create(h, ["model": "sim", "tools": tools, "reasoning": ["effort": "low"], "input": "Find it"])
            #expect((plain.json?["output"] as? [[String: Any]])?.first?.keys.contains("encrypted_content") == false)

            // Streamed: the reasoning item's done event carries it.
            let streamed = try await ResponsesGatewayTests.create(h, ask.merging(["input": "Find it", "stream": true]) { $1 })
            var parser = SSEParser()
            let done = parser.feed(Array(streamed.text.utf8)[...]).compactMap { try? Self.object($0.data) }
                .filter { $0["type"] as? String == "response.output_item.done" }.compactMap { $0["item"] as? [String: Any] }
            #expect(done.first { $0["type"] as? String == "reasoning" }?["encrypted_content"] as? String == encrypted)

            // The items sent back as the caller got them, with the call's output: the model thinks on the result.
            let callID = try #require(output[1]["call_id"] as? String)
            let input: [[String: Any]] = [["role": "user", "content": "Find it"]] + output
                + [["type": "function_call_output", "call_id": callID, "output": "42"]]
            let answered = try await ResponsesGatewayTests.create(h, ask.merging(["input": input]) { $1 })
            #expect(answered.status == 200, "\(answered.text)")
            #expect((answered.json?["output"] as? [[String: Any]])?.map { $0["type"] as? String } == ["reasoning", "message"])
            // Without the encrypted content, the loop goes on without thinking.
            var bare = output
            bare[0].removeValue(forKey: "encrypted_content")
            let unthought = try await ResponsesGatewayTests.create(
                h, ask.merging(["input": [["role": "user", "content": "Find it"]] + bare + [input.last!]]) { $1 })
            #expect((unthought.json?["output"] as? [[String: Any]])?.map { $0["type"] as? String } == ["message"], "\(unthought.text)")
        }
    }
}
