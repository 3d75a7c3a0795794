import Foundation
import SluiceCore
import SluiceSimulator
import Testing

@Suite("A chat turn streams end to end")
struct ChatTurnTests {
    @Test("the happy path: meta, numbered tokens, done with provider usage; both messages stored")
    func happyPath() async throws {
        try await Harness.run { h in
            let conversation = try await h.newConversation(h.alice)
            let turn = try await h.send(conversation, token: h.alice)
            #expect(turn.status == 200)
            #expect(turn.contentType?.hasPrefix("text/event-stream") == true)
            #expect(turn.headers.first(name: "Cache-Control") == "no-cache")
            #expect(turn.headers.first(name: "X-Accel-Buffering") == "no")
            #expect(turn.names == ["meta"] + Array(repeating: "token", count: 24) + ["done"])
            #expect(turn.text == SimulatedText.answer(tokens: 24))
            let assistantID = try #require(turn.assistantID)
            let ids = turn.events.filter { $0.event == "token" }.map(\.id)
            #expect(ids == (1...24).map { "\(assistantID):\($0)" })

            let done = try #require(turn.final)
            let usage = try #require(done["usage"] as? [String: Any])
            #expect(usage["output_tokens"] as? Int == 24)
            #expect(usage["input_tokens"] as? Int == 3 + 4 + 2)  // simulator: 3 + 4 per message + words
            #expect(usage["total_tokens"] as? Int == 33)
            #expect(done["finish_reason"] as? String == "stop")
            #expect((done["ttft_ms"] as? Int ?? -1) >= 0)
            #expect((done["duration_ms"] as? Int ?? -1) >= (done["ttft_ms"] as? Int ?? 0))

            let stored = try await h.store.messages(conversationID: conversation)
            #expect(stored.map(\.role) == [.user, .assistant])
            #expect(stored[0].content == "Hello there")
            #expect(stored[1].id == assistantID)
            #expect(stored[1].status == .complete)
            #expect(stored[1].content == SimulatedText.answer(tokens: 24))
            #expect(stored[1].usage == Usage(inputTokens: 9, outputTokens: 24, totalTokens: 33))
            #expect(stored[1].model == "sim")

            let reply = try await h.request(.GET, "/api/conversations/\(conversation)", token: h.alice)
            let messages = try #require(reply.json?["messages"] as? [[String: Any]])
            #expect(messages.map { $0["status"] as? String } == ["complete", "complete"])
            #expect((messages[1]["usage"] as? [String: Any])?["total_tokens"] as? Int == 33)
            #expect(messages[1]["ttft_ms"] is Int)
        }
    }

    @Test("tokens reach the client spaced in time as the upstream sends them, not in one burst")
    func tokensArriveProgressively() async throws {
        try await Harness.run(simulator: SimulatorSettings(tokens: 20, delay: .milliseconds(40))) { h in
            let conversation = try await h.newConversation(h.alice)
            let turn = try await h.send(conversation, token: h.alice)
            let times = zip(turn.events, turn.arrivals).filter { $0.0.event == "token" }.map(\.1)
            #expect(times.count == 20)
            // 19 gaps of 40 ms upstream: a buffered relay would deliver them all within a few milliseconds.
            let spread = try #require(times.last) - (try #require(times.first))
            #expect(spread > .milliseconds(19 * 40 / 2))
            let distinctGaps = zip(times, times.dropFirst()).filter { $1 - $0 > .milliseconds(10) }.count
            #expect(distinctGaps >= 5)  // a buffering relay shows none; loaded CI cores bunch some
        }
    }

    @Test("the conversation history and system prompt go upstream, so usage grows with the conversation")
    func historyIsSent() async throws {
        try await Harness.run { h in
            let conversation = try await h.newConversation(h.alice, body: "{\"system_prompt\":\"Answer in one word\"}")
            let first = try await h.send(conversation, token: h.alice)
            let second = try await h.send(conversation, token: h.alice, body: "{\"content\":\"And again\"}")
            let firstInput = try #require((first.final?["usage"] as? [String: Any])?["input_tokens"] as? Int)
            let secondInput = try #require((second.final?["usage"] as? [String: Any])?["input_tokens"] as? Int)
            // system (4+4) + user (4+2) + reply priming 3 = 17; then + assistant (4+24 words... ) + user (4+2)
            #expect(firstInput == 3 + (4 + 4) + (4 + 2))
            let answerWords = SimulatedText.answer(tokens: 24).split(whereSeparator: \.isWhitespace).count
            #expect(secondInput == firstInput + (4 + answerWords) + (4 + 2))
        }
    }

    @Test("a stream with CRLF line ends, comments and UTF-8 split across reads is reassembled exactly")
    func splitChunks() async throws {
        try await Harness.run { h in
            let conversation = try await h.newConversation(h.alice)
            let turn = try await h.send(conversation, token: h.alice, scenario: "split")
            #expect(turn.last?.event == "done")
            #expect(turn.text == SimulatedText.answer(tokens: 24))
            #expect(try await h.answer(turn).content == SimulatedText.answer(tokens: 24))
        }
    }

    @Test("without a usage chunk, done says so with nulls rather than inventing numbers")
    func noUsage() async throws {
        try await Harness.run { h in
            let conversation = try await h.newConversation(h.alice)
            let turn = try await h.send(conversation, token: h.alice, scenario: "no-usage")
            let usage = try #require(turn.final?["usage"] as? [String: Any])
            #expect(usage["input_tokens"] is NSNull)
            #expect(usage["output_tokens"] is NSNull)
            let stored = try await h.answer(turn)
            #expect(stored.status == .complete)
            #expect(stored.usage == Usage.unknown)
        }
    }

    @Test("an untitled conversation takes its title from the first message; a given title stays")
    func autoTitle() async throws {
        try await Harness.run { h in
            let untitled = try await h.newConversation(h.alice)
            let long = "Plan a three-day walking trip through the Scottish Highlands with a budget\nand more"
            _ = try await h.send(untitled, token: h.alice, body: "{\"content\":\(JSONText.quote(long))}")
            _ = try await h.send(untitled, token: h.alice, body: "{\"content\":\"second message\"}")
            let title = try await h.store.conversation(id: untitled)?.title
            #expect(title == "Plan a three-day walking trip through the Scottish Highlands…")
            let titled = try await h.newConversation(h.alice, body: "{\"title\":\"Mine\"}")
            _ = try await h.send(titled, token: h.alice)
            #expect(try await h.store.conversation(id: titled)?.title == "Mine")
        }
    }

    @Test("a model named in the message is used for that turn", arguments: ["sim-ok"])
    func modelOverride(model: String) async throws {
        try await Harness.run { h in
            let conversation = try await h.newConversation(h.alice)
            let turn = try await h.send(conversation, token: h.alice, body: "{\"content\":\"hi\",\"model\":\"\(model)\",\"temperature\":0.3}")
            #expect(turn.meta?["model"] as? String == model)
            #expect(turn.final?["model"] as? String == model)
            #expect(try await h.answer(turn).model == model)
        }
    }
}
