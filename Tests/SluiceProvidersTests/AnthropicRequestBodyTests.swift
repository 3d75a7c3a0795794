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
}
