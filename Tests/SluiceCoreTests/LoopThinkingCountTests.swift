import SluiceCore
import Testing

/// The signed thinking a thinking request sends back to Anthropic is input it reads: the count that holds a turn's
/// budget has it — that of the loop under way only, as `MessagesRequestBody` sends no other.
@Suite("Counting the thinking sent back in a function-calling loop")
struct LoopThinkingCountTests {
    /// One token per word, no framing.
    struct Words: PromptCounter {
        func promptTokens(_ messages: [ChatMessage]) async throws -> Int {
            messages.reduce(0) { $0 + $1.content.split(separator: " ").count }
        }
        func textTokens(_ text: String) async throws -> Int { text.split(separator: " ").count }
    }

    static let call = ToolCall(id: "c1", name: "lookup", arguments: "{}")
    static var messages: [ChatMessage] {
        [
            ChatMessage(role: .user, content: "first question"),
            // An earlier turn's thinking: Anthropic drops it unread, and Sluice does not send it.
            ChatMessage(role: .assistant, content: "an answer", thinking: [.thinking(text: "old thoughts here", signature: "s0")]),
            ChatMessage(role: .user, content: "find it"),
            ChatMessage(
                role: .assistant, content: "", toolCalls: [call],
                thinking: [.thinking(text: "I should look it up", signature: "s1"), .redacted(data: String(repeating: "x", count: 40))]),
            ChatMessage(role: .tool, content: "42", toolCallID: "c1"),
        ]
    }

    @Test("the loop's thinking (five words and a 40-character redacted block) counts; an earlier turn's does not")
    func loopOnly() async throws {
        #expect(try await Words().loopThinkingTokens(Self.messages) == 5 + 10)
    }

    @Test("a request's count has it only when the request thinks")
    func requestCount() async throws {
        let plain = ChatRequest(model: "m", messages: Self.messages)
        var thinking = plain
        thinking.sampling.reasoning = .effort(.high)
        let words = try await Words().promptTokens(Self.messages)
        #expect(try await Words().requestTokens(plain) == words)
        #expect(try await Words().requestTokens(thinking) == words + 15)
    }
}
