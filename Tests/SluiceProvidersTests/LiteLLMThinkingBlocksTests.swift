import Foundation
import SluiceCore
import Testing
@testable import SluiceProviders

/// LiteLLM in front of Anthropic streams the signed thinking as `delta.thinking_blocks` — pieces of a block's text,
/// then a piece with its signature — and takes it back as `thinking_blocks` on an assistant message. The chunks here
/// are LiteLLM 1.108.7's own, captured with the simulator (Anthropic mode) behind it.
@Suite("LiteLLM's thinking_blocks from and to an OpenAI-compatible upstream")
struct LiteLLMThinkingBlocksTests {
    static let signature = "c2ltLXNpZ25lZDpMZXQgbWUgdGhpbmsgYWJvdXQ6IEZpbmQgaXQ="
    static var chunks: [String] {
        [
            #"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"reasoning_content":"Let me ","thinking_blocks":[{"type":"thinking","thinking":"Let me ","index":0}],"provider_specific_fields":{"thinking_blocks":[{"type":"thinking","thinking":"Let me ","index":0}]},"content":"","role":"assistant"}}]}"#,
            #"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"reasoning_content":"think about: Find it","thinking_blocks":[{"type":"thinking","thinking":"think about: Find it","index":0}],"content":""}}]}"#,
            #"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"reasoning_content":"","thinking_blocks":[{"type":"thinking","thinking":"","signature":"\#(signature)","index":0}],"content":""}}]}"#,
            #"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"","tool_calls":[{"id":"toolu_1","function":{"arguments":"","name":"lookup"},"type":"function","index":0}]}}]}"#,
            #"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"","thinking_blocks":[{"type":"redacted_thinking","data":"ENCRYPTED"}]}}]}"#,
        ]
    }

    @Test("the pieces become Anthropic's signed blocks, after the thinking shown as reasoning")
    func decoded() throws {
        var decoder = ChunkDecoder()
        var reasoning = ""
        var signed: [SignedThinking] = []
        var calls = 0
        for chunk in Self.chunks {
            let events: [ProviderEvent] = switch try decoder.decode(chunk) {
            case .event(let event): [event]
            case .events(let events): events
            case .endOfStream: []
            }
            for event in events {
                switch event {
                case .reasoning(let piece): reasoning += piece
                case .signedThinking(let block): signed.append(block)
                case .toolCall: calls += 1
                default: break
                }
            }
        }
        #expect(reasoning == "Let me think about: Find it")
        #expect(signed == [.thinking(text: "Let me think about: Find it", signature: Self.signature), .redacted(data: "ENCRYPTED")])
        #expect(calls == 1)
    }

    @Test("sent back on the loop's answers when the model is set to and the request thinks; never otherwise")
    func sentBack() throws {
        let block = SignedThinking.thinking(text: "Let me think about: Find it", signature: Self.signature)
        let call = ToolCall(id: "toolu_1", name: "lookup", arguments: "{}")
        var request = ChatRequest(model: "claude", messages: [
            ChatMessage(role: .user, content: "Earlier"),
            ChatMessage(role: .assistant, content: "An earlier answer", thinking: [.thinking(text: "old", signature: "s0")]),
            ChatMessage(role: .user, content: "Find it"),
            ChatMessage(role: .assistant, content: "", toolCalls: [call], thinking: [block]),
            ChatMessage(role: .tool, content: "42", toolCallID: "toolu_1"),
        ])
        request.sampling.reasoning = .effort(.low)
        func assistants(_ body: [UInt8]) throws -> [[String: Any]] {
            let json = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
            return (json["messages"] as? [[String: Any]] ?? []).filter { $0["role"] as? String == "assistant" }
        }
        let sent = try assistants(CompletionRequestBody.json(request, thinkingBlocks: true))
        // Only the loop's answer carries it (Anthropic drops earlier turns' thinking unread).
        #expect(sent.first?["thinking_blocks"] == nil)
        let blocks = try #require(sent.last?["thinking_blocks"] as? [[String: Any]])
        #expect(blocks.count == 1 && blocks[0]["signature"] as? String == Self.signature && blocks[0]["type"] as? String == "thinking")

        // Not set for the model (OpenAI's API refuses fields it does not know), or a request that does not think.
        #expect(try assistants(CompletionRequestBody.json(request)).allSatisfy { $0["thinking_blocks"] == nil })
        var plain = request
        plain.sampling.reasoning = nil
        #expect(try assistants(CompletionRequestBody.json(plain, thinkingBlocks: true)).allSatisfy { $0["thinking_blocks"] == nil })
    }
}
