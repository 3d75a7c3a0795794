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
        // A prefilled answer (the last turn the assistant's) goes without thinking: the API takes no prefill with it.
        let prefilled = [ChatMessage(role: .user, content: "Tell me"), ChatMessage(role: .assistant, content: "Once upon")]
        #expect(try Self.anthropic(Self.request(.effort(.high), messages: prefilled))["thinking"] == nil)
        // Once an answer in words follows the calls, the model thinks again.
        let answered = loop + [ChatMessage(role: .assistant, content: "It is 42."), ChatMessage(role: .user, content: "Why?")]
        #expect(try Self.anthropic(Self.request(.effort(.high), messages: answered, tools: ToolOptions(functions: [function])))["thinking"] != nil)
    }

    @Test("an answer's signed thinking goes back first in its turn when the request thinks, and lets it think in the loop")
    func signedThinkingSentBack() throws {
        let function = ToolOptions.Function(name: "lookup")
        let call = ToolCall(id: "call_1", name: "lookup", arguments: "{}")
        let signed: [SignedThinking] = [.thinking(text: "Look it up.", signature: "c2ln"), .redacted(data: "ZW5j")]
        let loop = [
            ChatMessage(role: .user, content: "find it"),
            ChatMessage(role: .assistant, content: "", toolCalls: [call], thinking: signed),
            ChatMessage(role: .tool, content: "42", toolCallID: "call_1"),
        ]
        let body = try Self.anthropic(Self.request(.effort(.low), messages: loop, tools: ToolOptions(functions: [function])))
        #expect(body["thinking"] != nil)
        let messages = try #require(body["messages"] as? [[String: Any]])
        let answer = try #require(messages[1]["content"] as? [[String: Any]])
        try #require(answer.map { $0["type"] as? String } == ["thinking", "redacted_thinking", "tool_use"])
        #expect(answer[0]["thinking"] as? String == "Look it up." && answer[0]["signature"] as? String == "c2ln")
        #expect(answer[1]["data"] as? String == "ZW5j" && answer[0].count == 3 && answer[1].count == 2)
        // A request that does not think sends none of it (only a thinking request may carry it).
        for quiet in [Self.request(nil, messages: loop), Self.request(.disabled, messages: loop)] {
            let sent = try #require(try Self.anthropic(quiet)["messages"] as? [[String: Any]])
            #expect((sent[1]["content"] as? [[String: Any]])?.map { $0["type"] as? String } == ["tool_use"])
        }
        // Only the loop under way: an answer before the user's last words goes without its thinking.
        let later = [ChatMessage(role: .user, content: "earlier"), ChatMessage(role: .assistant, content: "Yes.", thinking: signed)] + loop
        let laterSent = try #require(
            try Self.anthropic(Self.request(.effort(.low), messages: later, tools: ToolOptions(functions: [function])))["messages"] as? [[String: Any]])
        #expect(laterSent[1]["content"] as? String == "Yes.")
        #expect((laterSent[3]["content"] as? [[String: Any]])?.map { $0["type"] as? String } == ["thinking", "redacted_thinking", "tool_use"])
        // Thinking another model did is not Anthropic's to check: a loop whose last answer has none goes without.
        var unsigned = loop
        unsigned[1].thinking = []
        #expect(try Self.anthropic(Self.request(.effort(.low), messages: unsigned, tools: ToolOptions(functions: [function])))["thinking"] == nil)
    }

    @Test("a thinking block sent back is Anthropic's JSON; a caller's block counts only when Anthropic signed it")
    func signedThinkingShape() throws {
        let block = SignedThinking.thinking(text: "a \"quote\"\n", signature: "c2ln")
        let decoded = try JSONDecoder().decode(SignedThinking.self, from: Data(block.json.utf8))
        #expect(decoded == block)
        let redacted = SignedThinking.redacted(data: "ZW5j")
        #expect(try JSONDecoder().decode(SignedThinking.self, from: JSONEncoder().encode(redacted)) == redacted)
        #expect(SignedThinking(type: "thinking", thinking: "x", signature: "", data: nil) == nil)
        #expect(SignedThinking(type: "thinking", thinking: "x", signature: nil, data: nil) == nil)
        #expect(SignedThinking(type: "redacted_thinking", thinking: nil, signature: nil, data: nil) == nil)
        #expect(SignedThinking(type: "text", thinking: "x", signature: "s", data: nil) == nil)
        #expect(SignedThinking(type: "thinking", thinking: "x", signature: "s", data: nil) == .thinking(text: "x", signature: "s"))
    }

    @Test("Anthropic's thinking blocks come back as the model's thinking, each ended by its signed block")
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
        #expect(decoded == [
            .reasoning("Let me see. "), .reasoning("Two."),
            .signedThinking(.thinking(text: "Let me see. Two.", signature: "EqQBCgIYAhIM")),
            .signedThinking(.redacted(data: "EmwKAhgBEgy")), .delta("2"), .finish(reason: "stop"),
        ])
    }
}
