import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SluiceCore
import SluiceTestSupport
import Testing

@Suite("OpenAI's Responses API on the gateway: POST /v1/responses, GET /v1/responses/{id}")
struct ResponsesGatewayTests {
    struct Reply {
        let status: Int
        let headers: HTTPHeaders
        let text: String
        var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] }
        var error: [String: Any]? { json?["error"] as? [String: Any] }
    }

    static func create(_ h: Harness, token: String? = nil, _ body: [String: Any]) async throws -> Reply {
        let reply = try await h.post("/v1/responses", token: token ?? h.alice, json: body)
        return Reply(status: reply.status, headers: reply.headers, text: reply.text)
    }

    /// The text of a response's `message` items.
    static func outputText(_ response: [String: Any]) -> String {
        (response["output"] as? [[String: Any]] ?? []).filter { $0["type"] as? String == "message" }
            .flatMap { $0["content"] as? [[String: Any]] ?? [] }.compactMap { $0["text"] as? String }.joined()
    }

    @Test("a whole response: the response object, stored as a conversation with the instructions as its system prompt",
          arguments: TestDatabases.backends)
    func whole(database: StoreBackend) async throws {
        try await Harness.run(budgets: true, database: database) { h in
            let reply = try await Self.create(h, ["model": "sim", "instructions": "Be brief.", "input": "Hello", "metadata": ["team": "a"]])
            #expect(reply.status == 200, "\(reply.text)")
            let response = try #require(reply.json)
            let messageID = try #require(reply.headers.first(name: "X-Sluice-Message-Id"))
            #expect(response["id"] as? String == "resp_" + messageID && response["object"] as? String == "response")
            #expect(response["status"] as? String == "completed" && response["model"] as? String == "sim")
            #expect(response["instructions"] as? String == "Be brief." && (response["metadata"] as? [String: String]) == ["team": "a"])
            let output = try #require(response["output"] as? [[String: Any]])
            #expect(output.count == 1 && output[0]["type"] as? String == "message" && output[0]["role"] as? String == "assistant")
            let text = Self.outputText(response)
            #expect(!text.isEmpty)
            let usage = try #require(response["usage"] as? [String: Any])
            let (input, outputTokens) = (usage["input_tokens"] as? Int ?? 0, usage["output_tokens"] as? Int ?? 0)
            #expect(input > 0 && outputTokens > 0 && usage["total_tokens"] as? Int == input + outputTokens)

            let conversationID = try #require(reply.headers.first(name: "X-Sluice-Conversation-Id"))
            #expect(try await h.store.conversation(id: conversationID)?.systemPrompt == "Be brief.")
            #expect(try await h.store.messages(conversationID: conversationID).map(\.content) == ["Hello", text])
        }
    }

    @Test("a streamed response: OpenAI's events in order with consecutive sequence numbers, the text as stored")
    func streamed() async throws {
        try await Harness.run(budgets: true) { h in
            let reply = try await Self.create(h, ["model": "sim", "input": [["role": "user", "content": [["type": "input_text", "text": "Hi"]]]], "stream": true])
            #expect(reply.status == 200 && reply.headers.first(name: "Content-Type") == "text/event-stream")
            var parser = SSEParser()
            let events = parser.feed(Array(reply.text.utf8)[...])
            let names = events.map { $0.event ?? "" }
            #expect(Array(names.prefix(4)) == ["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"])
            #expect(Array(names.suffix(4)) == ["response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"])
            #expect(names.dropFirst(4).dropLast(4).allSatisfy { $0 == "response.output_text.delta" } && names.count > 9)
            let data = events.compactMap { try? JSONSerialization.jsonObject(with: Data($0.data.utf8)) as? [String: Any] }
            #expect(data.count == events.count)
            #expect(data.map { $0["sequence_number"] as? Int ?? -1 } == Array(0 ..< events.count))
            #expect(zip(data, names).allSatisfy { $0["type"] as? String == $1 })
            let deltas = data.filter { $0["type"] as? String == "response.output_text.delta" }.compactMap { $0["delta"] as? String }.joined()
            let completed = try #require(data.last?["response"] as? [String: Any])
            #expect(completed["status"] as? String == "completed" && Self.outputText(completed) == deltas)
            #expect((completed["usage"] as? [String: Any])?["output_tokens"] as? Int ?? 0 > 0)
            let messageID = try #require(reply.headers.first(name: "X-Sluice-Message-Id"))
            #expect(try await h.store.message(id: messageID)?.content == deltas)
            #expect((data[0]["response"] as? [String: Any])?["status"] as? String == "in_progress")
        }
    }

    @Test("previous_response_id continues the answer's conversation from the store; retrieve gives the response; another user gets 403",
          arguments: TestDatabases.backends)
    func continued(database: StoreBackend) async throws {
        try await Harness.run(budgets: true, database: database) { h in
            let first = try await Self.create(h, ["model": "sim", "instructions": "Be brief.", "input": "Name a river."])
            let id = try #require(first.json?["id"] as? String)
            let second = try await Self.create(
                h, ["model": "sim", "instructions": "Be brief.", "input": "Another one?", "previous_response_id": id])
            #expect(second.status == 200, "\(second.text)")
            #expect(second.json?["previous_response_id"] as? String == id)
            let conversationID = try #require(first.headers.first(name: "X-Sluice-Conversation-Id"))
            #expect(second.headers.first(name: "X-Sluice-Conversation-Id") == conversationID)
            let stored = try await h.store.messages(conversationID: conversationID).map(\.content)
            #expect(stored == ["Name a river.", Self.outputText(try #require(first.json)), "Another one?", Self.outputText(try #require(second.json))])
            // The answer went upstream with the whole history: the simulator's input count grew with it.
            let inputs = [first, second].map { (($0.json?["usage"] as? [String: Any])?["input_tokens"] as? Int) ?? 0 }
            #expect(inputs[1] > inputs[0], "\(inputs)")

            let retrieved = try await h.request(.GET, "/v1/responses/\(id)", token: h.alice)
            #expect(retrieved.status == 200 && retrieved.json?["id"] as? String == id && retrieved.json?["status"] as? String == "completed")
            #expect(Self.outputText(try #require(retrieved.json)) == Self.outputText(try #require(first.json)))
            #expect(retrieved.json?["instructions"] as? String == "Be brief.")

            #expect(try await h.request(.GET, "/v1/responses/\(id)", token: h.bob).status == 403)
            let bobs = try await Self.create(h, token: h.bob, ["model": "sim", "input": "Go on", "previous_response_id": id])
            #expect(bobs.status == 403)
            let unknown = try await Self.create(h, ["model": "sim", "input": "Go on", "previous_response_id": "resp_nope"])
            #expect(unknown.status == 404 && unknown.error?["code"] as? String == "response_not_found")
            #expect(unknown.error?["param"] as? String == "previous_response_id")
            #expect(try await h.request(.GET, "/v1/responses/resp_nope", token: h.alice).status == 404)
        }
    }

    @Test("function calls come back as function_call items, whole and streamed, and their outputs continue the answer")
    func functionCalls() async throws {
        try await Harness.run(budgets: true) { h in
            let tools: [[String: Any]] = [
                ["type": "function", "name": "get_weather", "description": "The weather in a city.",
                 "parameters": ["type": "object", "properties": ["query": ["type": "string"]], "required": ["query"]]],
                ["type": "function", "name": "get_time"],
            ]
            let asked = try await Self.create(h, ["model": "sim", "input": "Lisbon", "tools": tools])
            #expect(asked.status == 200, "\(asked.text)")
            let calls = try #require(asked.json?["output"] as? [[String: Any]]).filter { $0["type"] as? String == "function_call" }
            #expect(calls.map { $0["name"] as? String } == ["get_weather", "get_time"])
            #expect((calls[0]["arguments"] as? String)?.contains("Lisbon") == true)
            #expect((asked.json?["tools"] as? [[String: Any]])?.count == 2)

            // Streamed: each call is an item of its own, its arguments in deltas that add up to the final item's.
            let streamed = try await Self.create(h, ["model": "sim", "input": "Porto", "tools": tools, "stream": true])
            var parser = SSEParser()
            let data = parser.feed(Array(streamed.text.utf8)[...]).compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.data.utf8)) as? [String: Any]
            }
            let added = data.filter { $0["type"] as? String == "response.output_item.added" }.compactMap { $0["item"] as? [String: Any] }
            #expect(added.map { $0["type"] as? String } == ["function_call", "function_call"])
            let done = data.filter { $0["type"] as? String == "response.output_item.done" }.compactMap { $0["item"] as? [String: Any] }
            #expect(done.map { $0["call_id"] as? String } == added.map { $0["call_id"] as? String })
            let firstIndex = added.first.flatMap { _ in data.first { $0["type"] as? String == "response.output_item.added" }?["output_index"] as? Int }
            let pieces = data.filter { $0["type"] as? String == "response.function_call_arguments.delta" && $0["output_index"] as? Int == firstIndex }
                .compactMap { $0["delta"] as? String }.joined()
            #expect(pieces == done.first?["arguments"] as? String && pieces.contains("Porto"))
            #expect(data.last?["type"] as? String == "response.completed")

            // The outputs, sent after the response that asked for them, are answered in its conversation.
            let id = try #require(asked.json?["id"] as? String)
            let outputs: [[String: Any]] = calls.map { ["type": "function_call_output", "call_id": $0["call_id"]!, "output": "sunny"] }
            let answered = try await Self.create(h, ["model": "sim", "input": outputs, "tools": tools, "previous_response_id": id])
            #expect(answered.status == 200, "\(answered.text)")
            #expect(Self.outputText(try #require(answered.json)).contains("sunny"))
            #expect(answered.headers.first(name: "X-Sluice-Conversation-Id") == asked.headers.first(name: "X-Sluice-Conversation-Id"))

            // What the answer was given, as items, in pages.
            let answeredID = try #require(answered.json?["id"] as? String)
            let all = try await h.request(.GET, "/v1/responses/\(answeredID)/input_items?order=asc", token: h.alice)
            let items = try #require(all.json?["data"] as? [[String: Any]])
            #expect(items.map { $0["type"] as? String } == ["message", "function_call", "function_call", "function_call_output", "function_call_output"])
            #expect(items.compactMap { $0["call_id"] as? String } == (calls + calls).compactMap { $0["call_id"] as? String })
            #expect(all.json?["has_more"] as? Bool == false)
            let newest = try await h.request(.GET, "/v1/responses/\(answeredID)/input_items?limit=2", token: h.alice)
            let page = try #require(newest.json?["data"] as? [[String: Any]])
            #expect(page.map { $0["type"] as? String } == ["function_call_output", "function_call_output"])
            #expect(newest.json?["has_more"] as? Bool == true)
            let lastID = try #require(newest.json?["last_id"] as? String)
            let rest = try await h.request(.GET, "/v1/responses/\(answeredID)/input_items?after=\(lastID)", token: h.alice)
            #expect((rest.json?["data"] as? [[String: Any]])?.map { $0["type"] as? String } == ["function_call", "function_call", "message"])
            #expect(try await h.request(.GET, "/v1/responses/\(answeredID)/input_items", token: h.bob).status == 403)
            #expect(try await h.request(.GET, "/v1/responses/\(answeredID)/input_items?limit=0", token: h.alice).status == 400)

            // The same conversation sent whole, as a stateless client does: its items are the chat's messages.
            let whole: [[String: Any]] = [["role": "user", "content": "Lisbon"]]
                + calls.map { ["type": "function_call", "call_id": $0["call_id"]!, "name": $0["name"]!, "arguments": $0["arguments"]!] }
                + outputs
            let stateless = try await Self.create(h, ["model": "sim", "input": whole, "tools": tools])
            #expect(stateless.status == 200, "\(stateless.text)")
            #expect(Self.outputText(try #require(stateless.json)).contains("sunny"))
        }
    }

    @Test("input_tokens counts a body as the budget hold counts it, after a previous response too, storing nothing")
    func inputTokens() async throws {
        try await Harness.run(budgets: true) { h in
            func count(_ body: [String: Any]) async throws -> Int {
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(h.port)/v1/responses/input_tokens")
                request.method = .POST
                request.headers.add(name: "Authorization", value: "Bearer \(h.alice)")
                request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
                let response = try await Harness.client.execute(request, timeout: .seconds(30))
                let json = try JSONSerialization.jsonObject(with: try await response.body.collect(upTo: 1 << 20)) as? [String: Any]
                #expect(response.status.code == 200 && json?["object"] as? String == "response.input_tokens")
                return try #require(json?["input_tokens"] as? Int)
            }
            let alice = try #require(try await h.store.user(named: "alice"))
            let body: [String: Any] = ["model": "sim", "instructions": "Be brief.", "input": "Name three rivers in Portugal."]
            let counted = try await count(body)
            #expect(try await h.store.conversations(userID: alice.id).isEmpty)
            let first = try await Self.create(h, body)
            let firstID = try #require(first.headers.first(name: "X-Sluice-Message-Id"))
            #expect(try await h.store.message(id: firstID)?.usage?.countedInputTokens == counted)

            let next: [String: Any] = ["model": "sim", "instructions": "Be brief.", "input": "And in Spain?",
                                       "previous_response_id": try #require(first.json?["id"] as? String)]
            let countedNext = try await count(next)
            #expect(countedNext > counted)
            let second = try await Self.create(h, next)
            let secondID = try #require(second.headers.first(name: "X-Sluice-Message-Id"))
            #expect(try await h.store.message(id: secondID)?.usage?.countedInputTokens == countedNext)
        }
    }

    @Test("what Sluice cannot pass is a 400 naming the field; nothing is stored")
    func badInput() async throws {
        try await Harness.run(budgets: true) { h in
            let cases: [(body: [String: Any], param: String?, says: String)] = [
                (["model": "sim"], "input", "'input' must be"),
                (["model": "sim", "input": [["role": "user", "content": [["type": "input_image", "image_url": "x"]]]]], "input.0.content.0", "neither a data URL"),
                (["model": "sim", "input": [["role": "user", "content": [["type": "input_file", "file_id": "x"]]]]], "input.0.content.0", "text and input_image parts only"),
                (["model": "sim", "input": [["type": "web_search_call", "id": "x"]]], "input.0.type", "web_search_call"),
                (["model": "sim", "input": "hi", "tools": [["type": "web_search"]]], "tools.0.type", "built-in"),
                (["model": "sim", "input": "hi", "background": true], "background", "'background'"),
                (["model": "sim", "input": [["type": "function_call_output", "call_id": "c1", "output": "x"]]], "input.0", "answers no function_call"),
                (["model": "sim", "input": [["role": "assistant", "content": "Hi"]]], "input", "must end with the user's"),
                (["model": "sim", "input": "hi", "temperature": 3], "temperature", "between 0 and 2"),
                (["model": "sim", "input": "hi", "top_logprobs": 21], "top_logprobs", "between 0 and 20"),
                (["model": "sim", "input": "hi", "include": "message.output_text.logprobs"], "include", "must list strings"),
                (["model": "sim", "input": "hi", "tools": [["type": "function", "name": "f"]], "tool_choice": ["type": "function", "function": ["name": "f"]]],
                 "tool_choice", #"{"type": "function", "name": …}"#),
                (["model": "sim", "input": "hi", "text": ["format": ["type": "json_schema", "name": "x"]]], "text.format.schema", "JSON Schema"),
            ]
            for (body, param, says) in cases {
                let reply = try await Self.create(h, body)
                #expect(reply.status == 400, "\(body): \(reply.text)")
                #expect(reply.error?["param"] as? String == param, "\(reply.text)")
                #expect((reply.error?["message"] as? String)?.contains(says) == true, "\(reply.text)")
                #expect(reply.error?["type"] as? String == "invalid_request_error")
            }
            let alice = try #require(try await h.store.user(named: "alice"))
            #expect(try await h.store.conversations(userID: alice.id).isEmpty)
        }
    }
}
