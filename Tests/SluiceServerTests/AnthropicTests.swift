import Foundation
import SluiceCore
import SluiceProviders
import SluiceSimulator
import SluiceTestSupport
import Testing

/// The Anthropic provider against the simulator's Messages API side, over real HTTP.
@Suite("Anthropic Messages API")
struct AnthropicTests {
    static func collect(_ stream: ProviderStream) async -> ([ProviderEvent], (any Error)?) {
        await stream.collected()
    }

    @Test("a streamed answer: text deltas, stop reason in OpenAI's words, usage from message_start and message_delta")
    func streamsTextAndUsage() async throws {
        try await Simulator.application(port: 0, settings: SimulatorSettings(tokens: 12, delay: .zero)).test(.live) { client in
            let provider = AnthropicProvider(baseURL: "http://127.0.0.1:\(try #require(client.port))/v1", apiKey: "k", httpClient: Harness.client)
            let (events, error) = await Self.collect(provider.streamChat(ChatRequest(
                model: "claude-sim", messages: [ChatMessage(role: .system, content: "Be brief."), ChatMessage(role: .user, content: "Hi there")])))
            #expect(error == nil)
            let text = events.compactMap { if case .delta(let text) = $0 { text } else { nil } }.joined()
            #expect(text == SimulatedText.answer(tokens: 12))
            #expect(events.contains(.finish(reason: "stop")))
            // 3 + (4 + 2 words of the system prompt) + (4 + 2 words of the message), as the simulator counts.
            #expect(events.last == .usage(Usage(inputTokens: 15, outputTokens: 12, totalTokens: 27)))
            try await provider.checkReady()
        }
    }

    @Test("system messages go to the top-level system field and roles alternate, starting with the user")
    func requestShape() async throws {
        try await Simulator.application(port: 0, settings: SimulatorSettings(tokens: 5, delay: .zero)).test(.live) { client in
            let provider = AnthropicProvider(baseURL: "http://127.0.0.1:\(try #require(client.port))/v1", apiKey: "k", httpClient: Harness.client)
            let (events, _) = await Self.collect(provider.streamChat(ChatRequest(model: "sim-echo", messages: [
                ChatMessage(role: .system, content: "Be brief."),
                ChatMessage(role: .system, content: "Summary of the earlier conversation:\nAda likes trams."),
                ChatMessage(role: .assistant, content: "Tram 28 it is."),
                ChatMessage(role: .user, content: "And tomorrow?"),
                ChatMessage(role: .user, content: "Also the day after."),
            ])))
            let text = events.compactMap { if case .delta(let text) = $0 { text } else { nil } }.joined()
            #expect(text == """
                system: Be brief.

                Summary of the earlier conversation:
                Ada likes trams.
                user: (The conversation continues.)
                assistant: Tram 28 it is.
                user: And tomorrow?

                Also the day after.

                """)
        }
    }

    @Test("HTTP 529 and a mid-stream overloaded_error both come back as 529; other stream errors as upstream errors")
    func errors() async throws {
        try await Simulator.application(port: 0, settings: SimulatorSettings(tokens: 10, delay: .zero)).test(.live) { client in
            let provider = AnthropicProvider(baseURL: "http://127.0.0.1:\(try #require(client.port))/v1", apiKey: "k", httpClient: Harness.client)
            let (_, overloaded) = await Self.collect(provider.streamChat(ChatRequest(model: "sim-529", messages: [ChatMessage(role: .user, content: "x")])))
            #expect(overloaded as? ProviderError == .http(status: 529, message: "Overloaded", retryAfter: nil))
            let (events, midStream) = await Self.collect(provider.streamChat(ChatRequest(model: "sim-error-mid", messages: [ChatMessage(role: .user, content: "y")])))
            #expect(events.filter { if case .delta = $0 { true } else { false } }.count == 5)
            #expect(midStream as? ProviderError == .http(status: 529, message: "Overloaded", retryAfter: nil))
            let (_, limited) = await Self.collect(provider.streamChat(ChatRequest(model: "sim-429", messages: [ChatMessage(role: .user, content: "z")])))
            #expect(limited as? ProviderError == .http(status: 429, message: "Number of request tokens has exceeded your rate limit.", retryAfter: "1"))
        }
    }

    @Test("a whole chat turn through Sluice on the Anthropic provider: retried after 529, stored with the provider's usage")
    func turnThroughSluice() async throws {
        try await Harness.run(anthropic: true) { h in
            let conversation = try await h.newConversation(h.alice, body: #"{"system_prompt":"Answer briefly, please."}"#)
            let turn = try await h.send(conversation, token: h.alice, scenario: "529x1")
            #expect(turn.names.first == "meta" && turn.names.last == "done")
            let retry = try #require(turn.events.first { $0.event == "status" }.flatMap(Harness.Turn.object))
            #expect(retry["reason"] as? String == "overloaded")
            #expect(turn.text == SimulatedText.answer(tokens: 24))
            let usage = try #require(turn.final?["usage"] as? [String: Any])
            #expect(usage["output_tokens"] as? Int == 24 && usage["source"] as? String == "provider")
            let stored = try await h.answer(turn)
            #expect(stored.status == .complete && stored.content == turn.text)
        }
    }
}
