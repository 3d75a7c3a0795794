import Foundation
import SluiceCore
import Testing
@testable import SluiceProviders

/// A caller's reasoning effort on the way upstream: `reasoning_effort` for OpenAI-compatible servers, extended
/// thinking within the Messages API's rules for Anthropic, and Anthropic's thinking read back as the model's thinking.
struct ReasoningRequestBodyTests {
    static func request(
        _ reasoning: ReasoningRequest?, maxTokens: Int? = nil, temperature: Double? = 0.3, topP: Double? = nil,
        messages: [ChatMessage] = [ChatMessage(role: .user, content: "hi")], format: ResponseFormat? = nil, tools: ToolOptions? = nil
    ) -> ChatRequest {
        ChatRequest(
            model: "m", messages: messages, temperature: temperature, maxTokens: maxTokens,
            sampling: SamplingOptions(topP: topP, responseFormat: format, reasoning: reasoning), tools: tools)
    }

    static func anthropic(_ request: ChatRequest) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(MessagesRequestBody(request, defaultMaxTokens: 512).json())) as? [String: Any])
    }

    static func openAI(_ request: ChatRequest) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(CompletionRequestBody.json(request))) as? [String: Any])
    }

    @Test("OpenAI-compatible upstreams get reasoning_effort: the level asked, or the level a thinking budget matches")
    func openAIEffort() throws {
        #expect(try Self.openAI(Self.request(nil))["reasoning_effort"] == nil)
        for effort in ReasoningEffort.allCases {
            #expect(try Self.openAI(Self.request(.effort(effort)))["reasoning_effort"] as? String == effort.rawValue)
        }
        let budgets = [1024: "low", 2000: "medium", 4096: "high", 10_000: "xhigh"]
        for (tokens, effort) in budgets {
            #expect(try Self.openAI(Self.request(.budget(tokens: tokens)))["reasoning_effort"] as? String == effort)
        }
        #expect(try Self.openAI(Self.request(.disabled))["reasoning_effort"] == nil)
    }

    @Test("Anthropic gets extended thinking with LiteLLM's budgets; the answer keeps its room; temperature is left out")
    func anthropicThinking() throws {
        let plain = try Self.anthropic(Self.request(nil))
        #expect(plain["thinking"] == nil && plain["max_tokens"] as? Int == 512 && plain["temperature"] as? Double == 0.3)

        for (effort, budget) in [(ReasoningEffort.minimal, 1024), (.low, 1024), (.medium, 2048), (.high, 4096), (.xhigh, 8192)] {
            let body = try Self.anthropic(Self.request(.effort(effort), topP: 0.9))
            let thinking = try #require(body["thinking"] as? [String: Any])
            #expect(thinking["type"] as? String == "enabled" && thinking["budget_tokens"] as? Int == budget)
            #expect(body["max_tokens"] as? Int == 512 + budget)
            // The API takes only temperature 1 and top_p from 0.95 with thinking: others are left out.
            #expect(body["temperature"] == nil && body["top_p"] == nil)
        }
        #expect(try Self.anthropic(Self.request(.effort(.high), topP: 0.97))["top_p"] as? Double == 0.97)
        let budgeted = try #require(try Self.anthropic(Self.request(.budget(tokens: 3000)))["thinking"] as? [String: Any])
        #expect(budgeted["budget_tokens"] as? Int == 3000)
        for off in [ReasoningRequest.disabled, .effort(.none)] {
            let body = try Self.anthropic(Self.request(off))
            #expect(body["thinking"] == nil && body["temperature"] as? Double == 0.3)
        }
    }

    @Test("a limit is the whole answer's: an effort's thinking leaves the answer 1 024 (half a smaller limit), a named budget one under; under 1 025 none")
    func limitHoldsTheThinking() throws {
        func budget(_ reasoning: ReasoningRequest, _ limit: Int) throws -> Int? {
            let body = try Self.anthropic(Self.request(reasoning, maxTokens: limit))
            #expect(body["max_tokens"] as? Int == limit)
            return (body["thinking"] as? [String: Any])?["budget_tokens"] as? Int
        }
        #expect(try budget(.effort(.high), 6000) == 4096)
        #expect(try budget(.effort(.high), 5120) == 4096)
        #expect(try budget(.effort(.high), 3992) == 2968)
        #expect(try budget(.effort(.high), 1500) == 1024)
        #expect(try budget(.budget(tokens: 4096), 3000) == 2999)
        #expect(try budget(.budget(tokens: 2048), 4000) == 2048)
        let roomy = try Self.anthropic(Self.request(.effort(.low), maxTokens: 8000))
        #expect(roomy["temperature"] == nil)
        #expect((roomy["thinking"] as? [String: Any])?["budget_tokens"] as? Int == 1024 && roomy["max_tokens"] as? Int == 8000)
        let small = try Self.anthropic(Self.request(.effort(.high), maxTokens: 1024))
        #expect(small["thinking"] == nil && small["max_tokens"] as? Int == 1024 && small["temperature"] as? Double == 0.3)
    }

    @Test("no thinking where the API refuses it: a forced tool, a JSON answer through its tool, the last answer's calls")
    func thinkingLeftOutWhereTheAPIRefusesIt() throws {
        let function = ToolOptions.Function(name: "lookup")
        #expect(try Self.anthropic(Self.request(.effort(.high), format: .jsonObject))["thinking"] == nil)
        #expect(try Self.anthropic(Self.request(.effort(.high), tools: ToolOptions(functions: [function], choice: .required)))["thinking"] == nil)
        #expect(try Self.anthropic(Self.request(.effort(.high), tools: ToolOptions(functions: [function], choice: .function("lookup"))))["thinking"] == nil)
        #expect(try Self.anthropic(Self.request(.effort(.high), tools: ToolOptions(functions: [function], choice: .auto)))["thinking"] != nil)

        let call = ToolCall(id: "call_1", name: "lookup", arguments: "{}")
        let loop = [
            ChatMessage(role: .user, content: "find it"), ChatMessage(role: .assistant, content: "", toolCalls: [call]),
            ChatMessage(role: .tool, content: "42", toolCallID: "call_1"),
        ]
        #expect(try Self.anthropic(Self.request(.effort(.high), messages: loop, tools: ToolOptions(functions: [function])))["thinking"] == nil)
        // The user speaks again in the same turn as the results: the last answer is still the one that called.
        let spoken = loop + [ChatMessage(role: .user, content: "and then?")]
        #expect(try Self.anthropic(Self.request(.effort(.high), messages: spoken, tools: ToolOptions(functions: [function])))["thinking"] == nil)
        // Once an answer in words follows the calls, the model thinks again.
        let answered = loop + [ChatMessage(role: .assistant, content: "It is 42."), ChatMessage(role: .user, content: "Why?")]
        #expect(try Self.anthropic(Self.request(.effort(.high), messages: answered, tools: ToolOptions(functions: [function])))["thinking"] != nil)
    }

    @Test("Anthropic's thinking blocks come back as the model's thinking; signatures are not text")
    func thinkingStreamDecoded() throws {
        let events = [
            #"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}"#,
            #"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me see. "}}"#,
            #"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Two."}}"#,
            #"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM"}}"#,
            #"{"type":"content_block_stop","index":0}"#,
            #"{"type":"content_block_start","index":1,"content_block":{"type":"redacted_thinking","data":"EmwKAhgBEgy"}}"#,
            #"{"type":"content_block_stop","index":1}"#,
            #"{"type":"content_block_start","index":2,"content_block":{"type":"text","text":""}}"#,
            #"{"type":"content_block_delta","index":2,"delta":{"type":"text_delta","text":"2"}}"#,
            #"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":9}}"#,
        ]
        var decoder = AnthropicEventDecoder()
        let decoded = try events.flatMap { data -> [ProviderEvent] in
            switch try decoder.decode(data) {
            case .event(let event): return [event]
            case .events(let list): return list
            case .endOfStream: return []
            }
        }
        #expect(decoded == [.reasoning("Let me see. "), .reasoning("Two."), .delta("2"), .finish(reason: "stop")])
    }
}
