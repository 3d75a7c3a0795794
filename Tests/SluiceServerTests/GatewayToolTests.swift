import AsyncHTTPClient
import Foundation
import NIOCore
import SluiceCore
@testable import SluiceServer
import SluiceTestSupport
import Testing

/// Function calling through `/v1/chat/completions`: the caller's tools go upstream, the model's calls come back in
/// OpenAI's shape (streamed and whole), the caller's results continue the same conversation, and every step is
/// stored. The simulator plays a model that calls the offered functions and then reports what they returned.
@Suite("Gateway function calling")
struct GatewayToolTests {
    static var tools: [[String: Any]] { [
        ["type": "function", "function": [
            "name": "get_weather", "description": "The weather in a city.",
            "parameters": ["type": "object", "properties": ["query": ["type": "string"]], "required": ["query"]],
        ] as [String: Any]],
        ["type": "function", "function": ["name": "get_time"]],
    ] }

    /// What one call answered: its conversation, text, calls and finish reason.
    struct Answer {
        let conversation: String
        let content: String?
        let calls: [[String: Any]]
        let finishReason: String?
    }

    static func call(_ h: Harness, messages: [[String: Any]], stream: Bool, extra: [String: Any] = [:]) async throws -> Answer {
        var body: [String: Any] = ["model": "sim", "stream": stream, "messages": messages, "tools": tools]
        body.merge(extra) { $1 }
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(h.port)/v1/chat/completions")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(h.alice)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        let response = try await Harness.client.execute(request, timeout: .seconds(30))
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        #expect(response.status.code == 200, "\(text)")
        let conversation = try #require(response.headers.first(name: "X-Sluice-Conversation-Id"))
        guard stream else {
            let json = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            let choice = try #require((json["choices"] as? [[String: Any]])?.first)
            let message = try #require(choice["message"] as? [String: Any])
            return Answer(
                conversation: conversation, content: message["content"] as? String,
                calls: message["tool_calls"] as? [[String: Any]] ?? [], finishReason: choice["finish_reason"] as? String)
        }
        // The SDKs' way: text deltas appended, call pieces gathered by index (id, type and name on the first).
        var content: String?
        var calls: [Int: (id: String, name: String, arguments: String)] = [:]
        var finish: String?
        for line in text.split(separator: "\n") where line.hasPrefix("data: {") {
            let chunk = try #require(try JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any])
            guard let choice = (chunk["choices"] as? [[String: Any]])?.first else { continue }
            finish = choice["finish_reason"] as? String ?? finish
            let delta = choice["delta"] as? [String: Any] ?? [:]
            if let piece = delta["content"] as? String, !piece.isEmpty { content = (content ?? "") + piece }
            for piece in delta["tool_calls"] as? [[String: Any]] ?? [] {
                let index = try #require(piece["index"] as? Int)
                let function = piece["function"] as? [String: Any] ?? [:]
                var call = calls[index] ?? ("", "", "")
                if let id = piece["id"] as? String {
                    call.id = id
                    #expect(piece["type"] as? String == "function")
                }
                call.name += function["name"] as? String ?? ""
                call.arguments += function["arguments"] as? String ?? ""
                calls[index] = call
            }
        }
        #expect(text.hasSuffix("data: [DONE]\n\n"))
        let ordered = calls.keys.sorted().map { index -> [String: Any] in
            let call = calls[index]!
            return ["id": call.id, "type": "function", "function": ["name": call.name, "arguments": call.arguments]]
        }
        return Answer(conversation: conversation, content: content, calls: ordered, finishReason: finish)
    }

    static func name(_ call: [String: Any]) -> String? { (call["function"] as? [String: Any])?["name"] as? String }
    static func arguments(_ call: [String: Any]) -> String? { (call["function"] as? [String: Any])?["arguments"] as? String }

    @Test("a whole loop: the model calls two functions, the caller's results are answered in the same conversation, all stored",
          arguments: [(stream: false, backend: StoreBackend.sqlite), (stream: true, backend: TestDatabases.backends.last!)])
    func aWholeLoop(stream: Bool, backend: StoreBackend) async throws {
        try await Harness.run(budgets: true, database: backend) { h in
            let question: [String: Any] = ["role": "user", "content": "Weather in Paris?"]
            let first = try await Self.call(h, messages: [question], stream: stream)
            #expect(first.finishReason == "tool_calls")
            #expect(first.content == nil)
            #expect(first.calls.compactMap(Self.name) == ["get_weather", "get_time"])
            #expect(first.calls.compactMap(Self.arguments) == Array(repeating: #"{"query":"Weather in Paris?"}"#, count: 2))
            let ids = first.calls.compactMap { $0["id"] as? String }
            #expect(ids.count == 2 && Set(ids).count == 2 && ids.allSatisfy { $0.hasPrefix("call_") })

            // The caller runs them and sends the results back, with the assistant message as it received it.
            let history: [[String: Any]] = [
                question, ["role": "assistant", "content": NSNull(), "tool_calls": first.calls],
                ["role": "tool", "tool_call_id": ids[0], "content": "18 C"],
                ["role": "tool", "tool_call_id": ids[1], "content": "noon"],
            ]
            let second = try await Self.call(h, messages: history, stream: stream)
            #expect(second.finishReason == "stop")
            #expect(second.calls.isEmpty)
            #expect(second.content == "The functions returned: \(ids[0]) said 18 C; \(ids[1]) said noon.")
            #expect(second.conversation == first.conversation)

            // And the conversation goes on past the calls with a user's message.
            let third = try await Self.call(
                h, messages: history + [["role": "assistant", "content": second.content!], ["role": "user", "content": "Thanks"]],
                stream: stream, extra: ["tool_choice": "none"])
            #expect(third.conversation == first.conversation)
            #expect(third.calls.isEmpty && third.finishReason == "stop")

            let stored = try await h.store.messages(conversationID: first.conversation)
            #expect(stored.map(\.role) == [.user, .assistant, .tool, .tool, .assistant, .user, .assistant])
            #expect(stored.allSatisfy { $0.status == .complete })
            #expect(stored[1].toolCalls.map(\.id) == ids)
            #expect(stored[1].toolCalls.map(\.name) == ["get_weather", "get_time"])
            #expect(stored[1].toolCalls.map(\.arguments) == Array(repeating: #"{"query":"Weather in Paris?"}"#, count: 2))
            #expect(stored[1].content.isEmpty && stored[1].finishReason == "tool_calls")
            #expect(stored[2].toolCallID == ids[0] && stored[2].content == "18 C")
            #expect(stored[3].toolCallID == ids[1] && stored[3].content == "noon")
            // Each turn was charged: the calls cost output tokens too.
            #expect((stored[1].usage?.outputTokens ?? 0) > 0)
        }
    }

    @Test("through Anthropic's Messages API: the tools are translated, its tool_use comes back as OpenAI's call, the result as tool_result",
          arguments: [false, true])
    func throughAnthropic(stream: Bool) async throws {
        try await Harness.run(anthropic: true) { h in
            let question: [String: Any] = ["role": "user", "content": "Weather in Paris?"]
            let first = try await Self.call(h, messages: [question], stream: stream)
            #expect(first.finishReason == "tool_calls")
            #expect(first.calls.compactMap(Self.name) == ["get_weather"])
            #expect(first.calls.compactMap(Self.arguments) == [#"{"query":"Weather in Paris?"}"#])
            let id = try #require(first.calls.first?["id"] as? String)
            #expect(id.hasPrefix("toolu_"))
            let history: [[String: Any]] = [
                question, ["role": "assistant", "content": NSNull(), "tool_calls": first.calls],
                ["role": "tool", "tool_call_id": id, "content": "18 C"],
            ]
            let second = try await Self.call(h, messages: history, stream: stream)
            #expect(second.content == "The functions returned: \(id) said 18 C.")
            #expect(second.finishReason == "stop" && second.conversation == first.conversation)
            let stored = try await h.store.messages(conversationID: first.conversation)
            #expect(stored.map(\.role) == [.user, .assistant, .tool, .assistant])
            #expect(stored[1].toolCalls == [ToolCall(id: id, name: "get_weather", arguments: #"{"query":"Weather in Paris?"}"#)])
        }
    }

    @Test("the tool definitions count as input: in the hold's count, and against the window (413 when they cannot fit)")
    func definitionsCountAsInput() async throws {
        var window = ModelCatalog()
        window.setContextWindow("sim", 400)
        try await Harness.run(budgets: true, catalog: window) { h in
            // Anthropic's message_start says the input Sluice counted for the hold.
            func countedInput(tools: String) async throws -> Int {
                let body = #"{"model":"sim","max_tokens":50,"stream":true,\#(tools)"messages":[{"role":"user","content":"Weather in Paris?"}]}"#
                let turn = try await h.stream("/v1/messages", token: h.alice, method: .POST, body: body)
                let start = try #require(turn.events.first { $0.event == "message_start" }.flatMap(Harness.Turn.object))
                return try #require(((start["message"] as? [String: Any])?["usage"] as? [String: Any])?["input_tokens"] as? Int)
            }
            let description = "Looks up the weather of a city for the user."
            let tool = #"{"name":"get_weather","description":"\#(description)","input_schema":{"type":"object"}}"#
            let without = try await countedInput(tools: "")
            let with = try await countedInput(tools: #""tools":[\#(tool)],"#)
            // WordTokenizer counts words: the name, the description's and the schema's.
            #expect(with - without == 1 + description.split(separator: " ").count + 1)

            let long = Array(repeating: "word", count: 400).joined(separator: " ")
            let reply = try await h.request(
                .POST, "/v1/chat/completions", token: h.alice,
                body: #"{"model":"sim","tools":[{"type":"function","function":{"name":"f","description":"\#(long)"}}],"messages":[{"role":"user","content":"Hi"}]}"#)
            #expect(reply.status == 413 && reply.errorCode == "context_overflow")
        }
    }

    @Test("the web app continuing an agent's conversation sends its calls and results as text, since it offers no tools")
    func webTurnFlattensCalls() async throws {
        try await Harness.run { h in
            let question: [String: Any] = ["role": "user", "content": "Weather in Paris?"]
            let first = try await Self.call(h, messages: [question], stream: false, extra: ["parallel_tool_calls": false])
            let id = try #require(first.calls.first?["id"] as? String)
            let history: [[String: Any]] = [
                question, ["role": "assistant", "content": NSNull(), "tool_calls": first.calls],
                ["role": "tool", "tool_call_id": id, "content": "18 C"],
            ]
            _ = try await Self.call(h, messages: history, stream: false)
            // The simulator's echo answer is what went upstream, one line per message.
            let turn = try await h.send(first.conversation, token: h.alice, body: #"{"content":"And tomorrow?"}"#, scenario: "echo")
            #expect(turn.names.last == "done")
            #expect(turn.text.contains(#"assistant: [called get_weather with {"query":"Weather in Paris?"}]"#))
            #expect(turn.text.contains("user: [get_weather returned]\n18 C"))
            #expect(!turn.text.contains("tool:"))
        }
    }

    @Test("a call's arguments are redacted as answers are: the upstream's key never reaches the caller, streamed or whole",
          arguments: [false, true])
    func argumentsAreRedacted(stream: Bool) async throws {
        try await Harness.run { h in
            // The simulator writes the user's words into the call's arguments, as a model tricked into it would.
            let question: [String: Any] = ["role": "user", "content": "Look up sk-test-secret for me"]
            let answer = try await Self.call(h, messages: [question], stream: stream, extra: ["parallel_tool_calls": false])
            let arguments = try #require(answer.calls.first.flatMap(Self.arguments))
            #expect(!arguments.contains("sk-test-secret"), "\(arguments)")
            #expect(arguments.contains("redacted"), "\(arguments)")
            let stored = try await h.store.messages(conversationID: answer.conversation)
            #expect(stored.last?.toolCalls.first?.arguments == arguments)
        }
    }

    @Test("a finished answer's calls are in its events for a client that follows it later")
    func replayedEventsCarryTheCalls() async throws {
        try await Harness.run { h in
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(h.port)/v1/chat/completions")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(h.alice)")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: [
                "model": "sim", "messages": [["role": "user", "content": "Weather?"]], "tools": Self.tools,
            ] as [String: Any])))
            let response = try await Harness.client.execute(request, timeout: .seconds(30))
            _ = try await response.body.collect(upTo: 1 << 20)
            let id = try #require(response.headers.first(name: "X-Sluice-Message-Id"))
            _ = try await h.settledMessage(id)
            let replay = try await h.stream("/api/messages/\(id)/events", token: h.alice)
            #expect(replay.names == ["tool_call", "tool_call", "done"])
            let calls = replay.events.filter { $0.event == "tool_call" }.compactMap(Harness.Turn.object)
            #expect(calls.map { $0["name"] as? String } == ["get_weather", "get_time"])
            #expect(calls.map { $0["index"] as? Int } == [0, 1])
            #expect(calls.allSatisfy { $0["arguments"] as? String == #"{"query":"Weather?"}"# })
            #expect(replay.final?["finish_reason"] as? String == "tool_calls")
        }
    }

    @Test("tool_choice naming a function calls only it; parallel_tool_calls false makes one call")
    func choiceAndParallel() async throws {
        try await Harness.run { h in
            let question: [String: Any] = ["role": "user", "content": "What time is it?"]
            let named = try await Self.call(
                h, messages: [question], stream: false,
                extra: ["tool_choice": ["type": "function", "function": ["name": "get_time"]]])
            #expect(named.calls.compactMap(Self.name) == ["get_time"])
            let single = try await Self.call(h, messages: [question], stream: true, extra: ["parallel_tool_calls": false])
            #expect(single.calls.compactMap(Self.name) == ["get_weather"])
            // "none": the model answers in text.
            let none = try await Self.call(h, messages: [question], stream: false, extra: ["tool_choice": "none"])
            #expect(none.calls.isEmpty && none.content?.isEmpty == false && none.finishReason == "stop")
        }
    }

    @Test("malformed tools, choices and results are 400s naming the field, and nothing is stored")
    func malformedToolsAreRefused() async throws {
        try await Harness.run { h in
            let user = #"{"role":"user","content":"Hi"}"#
            let cases: [(String, String)] = [
                (#""tools":[{"type":"code_interpreter"}],"messages":[\#(user)]"#, "tools.0.type"),
                (#""tools":[{"type":"function","function":{"name":"has space"}}],"messages":[\#(user)]"#, "tools.0.function.name"),
                (#""tools":[{"type":"function","function":{"name":"f","parameters":[1]}}],"messages":[\#(user)]"#, "tools.0.function.parameters"),
                (#""tools":[{"type":"function","function":{"name":"f"}},{"type":"function","function":{"name":"f"}}],"messages":[\#(user)]"#, "tools.1"),
                (#""tool_choice":"auto","messages":[\#(user)]"#, "tool_choice"),
                (#""tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"sometimes","messages":[\#(user)]"#, "tool_choice"),
                (#""tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"function","function":{"name":"g"}},"messages":[\#(user)]"#, "tool_choice"),
                (#""functions":[{"name":"f"}],"messages":[\#(user)]"#, "functions"),
                (#""messages":[\#(user),{"role":"tool","tool_call_id":"call_nowhere","content":"x"}]"#, "messages.1.tool_call_id"),
                (#""messages":[\#(user),{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","content":"x"}]"#, "messages.2.tool_call_id"),
            ]
            for (fields, param) in cases {
                let reply = try await h.request(.POST, "/v1/chat/completions", token: h.alice, body: #"{"model":"sim",\#(fields)}"#)
                #expect(reply.status == 400, "\(fields)")
                #expect((reply.json?["error"] as? [String: Any])?["param"] as? String == param, "\(fields): \(reply.errorMessage ?? "")")
            }
            let conversations = try await h.request(.GET, "/api/conversations", token: h.alice)
            #expect((conversations.json?["conversations"] as? [Any])?.isEmpty == true)
        }
    }
}
