import Foundation
import SluiceCore
import Testing
@testable import SluiceProviders

/// What the Messages API is sent of a caller's sampling options: the two it has, under its own names.
struct AnthropicRequestBodyTests {
    static let messages = [ChatMessage(role: .user, content: "hi")]

    @Test func topPAndStopSequencesGoOnAndWhatTheAPILacksIsLeftOut() throws {
        let sampling = SamplingOptions(topP: 0.9, stop: ["END"], seed: 3, presencePenalty: 1, frequencyPenalty: 1, endUser: "shop-42")
        let body = MessagesRequestBody(ChatRequest(model: "claude", messages: Self.messages, sampling: sampling), defaultMaxTokens: 64)
        let json = try #require(try JSONSerialization.jsonObject(with: JSONEncoderForTests.encode(body)) as? [String: Any])
        #expect(json["top_p"] as? Double == 0.9)
        #expect(json["stop_sequences"] as? [String] == ["END"])
        #expect(json["max_tokens"] as? Int == 64)
        #expect(["seed", "presence_penalty", "frequency_penalty", "stop", "user"].allSatisfy { json[$0] == nil })
        // The end user goes where the Messages API takes it.
        #expect((json["metadata"] as? [String: Any])?["user_id"] as? String == "shop-42")

        let bare = MessagesRequestBody(ChatRequest(model: "claude", messages: Self.messages), defaultMaxTokens: 64)
        let plain = try #require(try JSONSerialization.jsonObject(with: JSONEncoderForTests.encode(bare)) as? [String: Any])
        #expect(plain["top_p"] == nil && plain["stop_sequences"] == nil && plain["metadata"] == nil)
    }

    @Test("a temperature above the Messages API's 1 (OpenAI's range goes to 2) is sent as 1; one within it as it is")
    func temperatureWithinTheAPIsRange() throws {
        func sent(_ temperature: Double?) throws -> Double? {
            let body = MessagesRequestBody(ChatRequest(model: "claude", messages: Self.messages, temperature: temperature), defaultMaxTokens: 64)
            return try #require(try JSONSerialization.jsonObject(with: Data(body.json())) as? [String: Any])["temperature"] as? Double
        }
        #expect(try sent(1.7) == 1 && sent(2) == 1)
        #expect(try sent(0.4) == 0.4 && sent(1) == 1 && sent(0) == 0)
        #expect(try sent(nil) == nil)
    }

    @Test("prompt caching marks the system prompt and the last turn with cache_control, and nothing else")
    func promptCachingMarksSystemAndLastTurn() throws {
        let conversation = [
            ChatMessage(role: .system, content: "Be brief."), ChatMessage(role: .user, content: "Hello"),
            ChatMessage(role: .assistant, content: "Hi!"), ChatMessage(role: .user, content: "More"),
        ]
        let request = ChatRequest(model: "claude", messages: conversation)
        let cached = try #require(try JSONSerialization.jsonObject(
            with: Data(MessagesRequestBody(request, defaultMaxTokens: 64, promptCaching: true).json())) as? [String: Any])
        let system = try #require(cached["system"] as? [[String: Any]])
        #expect(system.count == 1 && system[0]["text"] as? String == "Be brief.")
        #expect((system[0]["cache_control"] as? [String: Any])?["type"] as? String == "ephemeral")
        let messages = try #require(cached["messages"] as? [[String: Any]])
        #expect(messages.count == 3 && messages[0]["content"] as? String == "Hello" && messages[1]["content"] as? String == "Hi!")
        let last = try #require(messages[2]["content"] as? [[String: Any]])
        #expect(last.count == 1 && last[0]["type"] as? String == "text" && last[0]["text"] as? String == "More")
        #expect((last[0]["cache_control"] as? [String: Any])?["type"] as? String == "ephemeral")

        // Off: the plain shapes, no mark anywhere.
        let plainBytes = try MessagesRequestBody(request, defaultMaxTokens: 64).json()
        let plain = try #require(try JSONSerialization.jsonObject(with: Data(plainBytes)) as? [String: Any])
        #expect(plain["system"] as? String == "Be brief.")
        #expect((plain["messages"] as? [[String: Any]])?.last?["content"] as? String == "More")
        #expect(!String(decoding: plainBytes, as: UTF8.self).contains("cache_control"))
    }
    @Test("a prefilled answer (a final assistant turn) goes without trailing whitespace, which the API refuses; the cache mark stays on the user's turn")
    func prefillWithoutTrailingWhitespace() throws {
        func messages(_ prefill: String) throws -> [[String: Any]] {
            let request = ChatRequest(model: "claude", messages: [
                ChatMessage(role: .user, content: "List them"), ChatMessage(role: .assistant, content: prefill),
            ])
            let json = try MessagesRequestBody(request, defaultMaxTokens: 64, promptCaching: true).json()
            return try #require((try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])?["messages"] as? [[String: Any]])
        }
        let sent = try messages("Here they are:\n\n ")
        #expect(sent.count == 2)
        #expect(sent.last?["role"] as? String == "assistant" && sent.last?["content"] as? String == "Here they are:")
        // The mark goes on the user's turn, which the next call sends as it is (the prefill it will not).
        let user = try #require(sent.first?["content"] as? [[String: Any]])
        #expect((user.first?["cache_control"] as? [String: Any])?["type"] as? String == "ephemeral")
        // A start of whitespace only is no start: the request ends with the user's turn.
        let bare = try messages("  \n")
        #expect(bare.count == 1 && bare.first?["role"] as? String == "user")
    }
}
