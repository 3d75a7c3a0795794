import SluiceCore
@testable import SluiceGuard
import SluiceTestSupport
import Synchronization
import Testing

struct PersonalDataMaskingProviderTests {
    /// An upstream that records what it was asked and answers with a script.
    final class ScriptedUpstream: ChatProvider {
        let script: [ProviderEvent]
        let failure: ProviderError?
        let seen = Mutex<[ChatRequest]>([])

        init(_ script: [ProviderEvent], failing failure: ProviderError? = nil) {
            self.script = script
            self.failure = failure
        }

        func streamChat(_ request: ChatRequest) -> ProviderStream {
            seen.withLock { $0.append(request) }
            let (script, failure) = (script, failure)
            return ProviderStream(AsyncThrowingStream { continuation in
                for event in script { continuation.yield(event) }
                continuation.finish(throwing: failure)
            })
        }

        func checkReady() async throws {}
    }

    static func collect(_ stream: ProviderStream) async -> (events: [ProviderEvent], error: (any Error)?) {
        await stream.collected()
    }

    static func text(_ events: [ProviderEvent]) -> String {
        events.map { if case .delta(let text) = $0 { text } else { "" } }.joined()
    }

    static let request = ChatRequest(model: "m", messages: [
        ChatMessage(role: .system, content: "Help ann@example.com."),
        ChatMessage(role: .user, content: "Email ann@example.com my card 4111 1111 1111 1111."),
        ChatMessage(role: .assistant, content: "", toolCalls: [ToolCall(id: "c1", name: "lookup", arguments: "{\"phone\":\"+1 555 123 4567\"}")]),
        ChatMessage(role: .tool, content: "{\"owner\":\"bo@example.org\"}", toolCallID: "c1"),
    ])

    @Test func theUpstreamSeesPlaceholdersAndTheCallerTheDetails() async throws {
        let upstream = ScriptedUpstream([
            .delta("Done: wrote to [EM"), .delta("AIL_1] about [CA"), .delta("RD_1] and [EMAIL_3]"), .delta(" [x]."),
            .finish(reason: "stop"), .usage(Usage(inputTokens: 10, outputTokens: 5, totalTokens: 15, source: .provider)),
        ])
        let tally = PersonalDataTally()
        let events = await PersonalDataTally.$current.withValue(tally) {
            await Self.collect(PersonalDataMaskingProvider(upstream).streamChat(Self.request))
        }
        let sent = try #require(upstream.seen.withLock { $0.first })
        #expect(sent.messages.map { $0.content } == [
            "Help [EMAIL_1].", "Email [EMAIL_1] my card [CARD_1].", "", "{\"owner\":\"[EMAIL_2]\"}",
        ])
        #expect(sent.messages[2].toolCalls.first?.arguments == "{\"phone\":\"[PHONE_1]\"}")
        #expect(Self.text(events.events) == "Done: wrote to ann@example.com about 4111 1111 1111 1111 and [EMAIL_3] [x].")
        #expect(events.events.suffix(2) == [.finish(reason: "stop"), .usage(Usage(inputTokens: 10, outputTokens: 5, totalTokens: 15, source: .provider))])
        #expect(tally.counts == [.email: 2, .card: 1, .phone: 1])
    }

    @Test func aRequestWithoutDetailsGoesUnchanged() async {
        let upstream = ScriptedUpstream([.delta("[EMAIL_1] stays"), .finish(reason: "stop")])
        let plain = ChatRequest(model: "m", messages: [ChatMessage(role: .user, content: "Hello [EMAIL_1]")])
        let events = await Self.collect(PersonalDataMaskingProvider(upstream).streamChat(plain))
        #expect(upstream.seen.withLock { $0 } == [plain])
        #expect(Self.text(events.events) == "[EMAIL_1] stays")
    }

    @Test func thinkingAndFunctionCallsAreRestoredToo() async {
        let upstream = ScriptedUpstream([
            .reasoning("They want [EMA"), .reasoning("IL_1] mailed."),
            .toolCall(ToolCallDelta(index: 0, id: "c2", name: "send", arguments: "{\"to\":\"[EMAI")),
            .toolCall(ToolCallDelta(index: 0, arguments: "L_1]\"}")),
            .finish(reason: "tool_calls"),
        ])
        let events = await Self.collect(PersonalDataMaskingProvider(upstream).streamChat(Self.request)).events
        let thinking = events.map { if case .reasoning(let text) = $0 { text } else { "" } }.joined()
        var calls: [ToolCall] = []
        for case .toolCall(let delta) in events { calls.apply(delta) }
        #expect(thinking == "They want ann@example.com mailed.")
        #expect(calls == [ToolCall(id: "c2", name: "send", arguments: "{\"to\":\"ann@example.com\"}")])
        #expect(events.last == .finish(reason: "tool_calls"))
    }

    @Test func usageBetweenThePiecesOfAPlaceholderDoesNotCutIt() async {
        let usage = Usage(inputTokens: 10, outputTokens: nil, totalTokens: nil, source: .provider)
        let upstream = ScriptedUpstream([.usage(usage), .delta("To [EMA"), .usage(usage), .delta("IL_1]."), .finish(reason: "stop")])
        let events = await Self.collect(PersonalDataMaskingProvider(upstream).streamChat(Self.request)).events
        #expect(Self.text(events) == "To ann@example.com.")
        #expect(events.filter { if case .usage = $0 { true } else { false } }.count == 2)
    }

    @Test func heldBackTextGoesOutBeforeAFailure() async {
        let upstream = ScriptedUpstream([.delta("Writing to [EMAIL_1")], failing: .connection("reset"))
        let result = await Self.collect(PersonalDataMaskingProvider(upstream).streamChat(Self.request))
        #expect(Self.text(result.events) == "Writing to [EMAIL_1")
        #expect(result.error as? ProviderError == .connection("reset"))
    }

    @Test func logProbabilitiesStayWithTheirText() async {
        let entry = { (token: String, logprob: Double) in TokenLogprob(token: token, logprob: logprob) }
        let upstream = ScriptedUpstream([
            .logprobs([entry("Hi", -0.5)]), .delta("Hi"),
            .logprobs([entry(" [", -0.1)]), .delta(" ["),
            .logprobs([entry("EMAIL_1]", -0.2)]), .delta("EMAIL_1]"),
            .logprobs([entry("!", -0.3)]), .delta("!"),
            .finish(reason: "stop"),
        ])
        let events = await Self.collect(PersonalDataMaskingProvider(upstream).streamChat(Self.request)).events
        #expect(events == [
            .logprobs([entry("Hi", -0.5)]), .delta("Hi"),
            .logprobs([entry(" ann@example.com", -0.1 + -0.2)]), .delta(" ann@example.com"),
            .logprobs([entry("!", -0.3)]), .delta("!"),
            .finish(reason: "stop"),
        ])
    }
}
