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
