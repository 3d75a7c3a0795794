import Foundation
import SluiceCore
import Testing
@testable import SluiceProviders

/// Function calls on the OpenAI-compatible wire: offered tools, earlier calls and their results go upstream in
/// OpenAI's shape; streamed call pieces come back as provider events.
struct ToolCallWireTests {
    static let schemaText = #"{"type":"object","properties":{"zeta":{"type":"integer"},"alpha":{"type":"string"}}}"#

    @Test("tools, tool_choice, parallel_tool_calls, calls and results are written as OpenAI defines them")
    func requestBody() throws {
        let calls = [ToolCall(id: "call_1", name: "lookup", arguments: #"{"q":"a \"b\""}"#)]
        let request = ChatRequest(
            model: "m",
            messages: [
                ChatMessage(role: .user, content: "hi"), ChatMessage(role: .assistant, content: "", toolCalls: calls),
                ChatMessage(role: .tool, content: "found", toolCallID: "call_1"),
            ],
            tools: ToolOptions(
                functions: [
                    .init(name: "lookup", description: "Looks up.", parameters: try JSONValue(parsing: Array(Self.schemaText.utf8)), strict: true),
                    .init(name: "bare"),
                ],
                choice: .function("lookup"), parallelCalls: false))
        let bytes = CompletionRequestBody.json(request)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        let messages = try #require(json["messages"] as? [[String: Any]])
        #expect(messages[1]["content"] is NSNull)
        let call = try #require((messages[1]["tool_calls"] as? [[String: Any]])?.first)
        let function = try #require(call["function"] as? [String: Any])
        #expect(call["id"] as? String == "call_1" && call["type"] as? String == "function")
        #expect(function["name"] as? String == "lookup" && function["arguments"] as? String == #"{"q":"a \"b\""}"#)
        #expect(messages[2]["role"] as? String == "tool" && messages[2]["tool_call_id"] as? String == "call_1")
        #expect(messages[0]["tool_call_id"] == nil && messages[0]["tool_calls"] == nil)
        let tools = try #require(json["tools"] as? [[String: Any]])
        #expect(tools.map { ($0["function"] as? [String: Any])?["name"] as? String } == ["lookup", "bare"])
        #expect((tools[0]["function"] as? [String: Any])?["strict"] as? Bool == true)
        #expect((tools[1]["function"] as? [String: Any])?["parameters"] == nil)
        // The schema byte for byte, in the caller's order.
        #expect(String(decoding: bytes, as: UTF8.self).contains(#""parameters":\#(Self.schemaText)"#))
        #expect(((json["tool_choice"] as? [String: Any])?["function"] as? [String: Any])?["name"] as? String == "lookup")
        #expect(json["parallel_tool_calls"] as? Bool == false)

        let plain = try #require(try JSONSerialization.jsonObject(
            with: Data(CompletionRequestBody.json(ChatRequest(model: "m", messages: [ChatMessage(role: .user, content: "hi")])))) as? [String: Any])
        #expect(plain["tools"] == nil && plain["tool_choice"] == nil)
    }

    @Test("streamed call pieces become toolCall events in order; an empty tool_calls list stays on the fast path")
    func streamedPieces() throws {
        var decoder = ChunkDecoder()
        #expect(try decoder.decode(
            #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"f","arguments":""}}]}}]}"#)
            == .events([.toolCall(ToolCallDelta(index: 0, id: "call_a", name: "f", arguments: ""))]))
        #expect(try decoder.decode(#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\"x\""}}]}}]}"#)
            == .events([.toolCall(ToolCallDelta(index: 1, arguments: #"{"x""#))]))
        #expect(try decoder.decode(#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#) == .events([.finish(reason: "tool_calls")]))
        // vLLM writes an empty list beside ordinary text.
        var text = ChunkDecoder()
        #expect(try text.decode(#"{"choices":[{"index":0,"delta":{"content":"Hi","tool_calls":[]}}]}"#) == .event(.delta("Hi")))
        #expect(ChunkScanner.choices(#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0}]}}]}"#) == nil)
    }

    @Test("pieces assemble into calls: the first names the call, the rest extend its arguments")
    func assembly() {
        var calls: [ToolCall] = []
        calls.apply(ToolCallDelta(index: 0, id: "a", name: "f", arguments: "{"))
        calls.apply(ToolCallDelta(index: 1, id: "b", name: "g"))
        calls.apply(ToolCallDelta(index: 0, arguments: "}"))
        calls.apply(ToolCallDelta(index: 1, arguments: "[]"))
        #expect(calls == [ToolCall(id: "a", name: "f", arguments: "{}"), ToolCall(id: "b", name: "g", arguments: "[]")])
    }

    @Test("a call and its result go together: either without the other is left out")
    func pairing() {
        let call = ToolCall(id: "c1", name: "f", arguments: "{}")
        let other = ToolCall(id: "c2", name: "g", arguments: "{}")
        let user = ChatMessage(role: .user, content: "hi")
        let full = [user, ChatMessage(role: .assistant, content: "", toolCalls: [call]), ChatMessage(role: .tool, content: "r", toolCallID: "c1")]
        #expect(full.pairingToolCalls() == full)
        // The window cut the call: its result goes too.
        #expect([user, ChatMessage(role: .tool, content: "r", toolCallID: "c1")].pairingToolCalls() == [user])
        // A call without a result is dropped; the message keeps its text, or goes when it has none.
        let unanswered = [user, ChatMessage(role: .assistant, content: "Let me look.", toolCalls: [call, other]),
                          ChatMessage(role: .tool, content: "r", toolCallID: "c1"), ChatMessage(role: .user, content: "more")]
        #expect(unanswered.pairingToolCalls()[1] == ChatMessage(role: .assistant, content: "Let me look.", toolCalls: [call]))
        #expect([user, ChatMessage(role: .assistant, content: "", toolCalls: [other]), user].pairingToolCalls() == [user, user])
    }
}

/// Function calls on Anthropic's Messages API: tools and choices under its names, calls as `tool_use` blocks,
/// results as `tool_result` blocks of one user turn, and its stream's `tool_use` blocks as calls.
struct AnthropicToolWireTests {
    @Test("tools, choices, calls and results are written as the Messages API takes them")
    func requestBody() throws {
        let call = ToolCall(id: "toolu_1", name: "lookup", arguments: #"{"q":"x"}"#)
        let slip = ToolCall(id: "toolu_2", name: "lookup", arguments: "not json")
        let request = ChatRequest(
            model: "claude",
            messages: [
                ChatMessage(role: .system, content: "Be brief."), ChatMessage(role: .user, content: "hi"),
                ChatMessage(role: .assistant, content: "Looking.", toolCalls: [call, slip]),
                ChatMessage(role: .tool, content: "found", toolCallID: "toolu_1"),
                ChatMessage(role: .tool, content: "also", toolCallID: "toolu_2"),
                ChatMessage(role: .user, content: "thanks"),
            ],
            sampling: SamplingOptions(responseFormat: .jsonObject),
            tools: ToolOptions(
                functions: [.init(name: "lookup", description: "Looks up.", parameters: try JSONValue(parsing: Array(#"{"type":"object","properties":{"q":{"type":"string"}}}"#.utf8))),
                            .init(name: "bare")],
                choice: .required, parallelCalls: false))
        let bytes = try MessagesRequestBody(request, defaultMaxTokens: 64).json()
        let json = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(json["system"] as? String == "Be brief.")
        let messages = try #require(json["messages"] as? [[String: Any]])
        #expect(messages.map { $0["role"] as? String } == ["user", "assistant", "user"])
        #expect(messages[0]["content"] as? String == "hi")
        let answer = try #require(messages[1]["content"] as? [[String: Any]])
        #expect(answer.map { $0["type"] as? String } == ["text", "tool_use", "tool_use"])
        #expect(answer[1]["id"] as? String == "toolu_1" && answer[1]["name"] as? String == "lookup")
        #expect((answer[1]["input"] as? [String: Any])?["q"] as? String == "x")
        // Arguments that are not a JSON object go as an empty input.
        #expect((answer[2]["input"] as? [String: Any])?.isEmpty == true)
        // Both results and the user's words in one user turn, the results first.
        let results = try #require(messages[2]["content"] as? [[String: Any]])
        #expect(results.map { $0["type"] as? String } == ["tool_result", "tool_result", "text"])
        #expect(results[0]["tool_use_id"] as? String == "toolu_1" && results[0]["content"] as? String == "found")
        #expect(results[2]["text"] as? String == "thanks")
        let tools = try #require(json["tools"] as? [[String: Any]])
        #expect(tools.map { $0["name"] as? String } == ["lookup", "bare"])
        #expect((tools[1]["input_schema"] as? [String: Any])?["type"] as? String == "object")
        // With function tools the response format's tool is not added: only one tool can be forced.
        let choice = try #require(json["tool_choice"] as? [String: Any])
        #expect(choice["type"] as? String == "any" && choice["disable_parallel_tool_use"] as? Bool == true)
        #expect(!MessagesRequestBody.answersThroughTool(request))
    }

    @Test("a tool_use block's start and input pieces become calls; text around them stays text")
    func streamedToolUse() throws {
        var decoder = AnthropicEventDecoder()
        #expect(try decoder.decode(#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#) == .events([]))
        #expect(try decoder.decode(#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Let me see."}}"#)
            == .events([.delta("Let me see.")]))
        #expect(try decoder.decode(#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_a","name":"f","input":{}}}"#)
            == .events([.toolCall(ToolCallDelta(index: 0, id: "toolu_a", name: "f", arguments: ""))]))
        #expect(try decoder.decode(#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"q\":"}}"#)
            == .events([.toolCall(ToolCallDelta(index: 0, arguments: #"{"q":"#))]))
        #expect(try decoder.decode(#"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_b","name":"g","input":{}}}"#)
            == .events([.toolCall(ToolCallDelta(index: 1, id: "toolu_b", name: "g", arguments: ""))]))
        #expect(try decoder.decode(#"{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":9}}"#)
            == .events([.finish(reason: "tool_calls")]))
    }
}
