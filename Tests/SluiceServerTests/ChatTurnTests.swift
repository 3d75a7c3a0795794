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
            #expect(stored[1].usage == Usage(
                inputTokens: 9, outputTokens: 24, totalTokens: 33, source: .provider, countedInputTokens: 9, countedOutputTokens: 24))
            #expect(stored[1].model == "sim")

            let reply = try await h.request(.GET, "/api/conversations/\(conversation)", token: h.alice)
            let messages = try #require(reply.json?["messages"] as? [[String: Any]])
            #expect(messages.map { $0["status"] as? String } == ["complete", "complete"])
            #expect((messages[1]["usage"] as? [String: Any])?["total_tokens"] as? Int == 33)
            #expect(messages[1]["ttft_ms"] is Int)
        }
    }

    @Test("each token reaches the client before the upstream sends the next one: nothing buffers on the way")
    func tokensArriveOneByOne() async throws {
        try await Harness.run(simulator: SimulatorSettings(tokens: 20, delay: .zero)) { h in
            let conversation = try await h.newConversation(h.alice)
            let gate = UUID().uuidString
            // The simulator holds every token until released; the client releases token k+1 only after it has
            // received token k. Any buffering between upstream and client would stall this turn.
            let turn = try await withThrowingTaskGroup(of: Harness.Turn.self) { group in
                group.addTask {
                    try await h.send(conversation, token: h.alice, headers: ["X-Sluice-Gate": gate]) { event, _ in
                        if event.event == "meta" || event.event == "token" { try await h.releaseGate(gate) }
                        return true
                    }
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(30))
                    throw HarnessError("the stream stalled: a token was held back until a later one was sent")
                }
                let first = try await group.next()!
                group.cancelAll()
                return first
            }
            #expect(turn.tokens.count == 20)
            #expect(turn.last?.event == "done")
            #expect(turn.text == SimulatedText.answer(tokens: 20))
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

    @Test("without a usage chunk and without a tokenizer for the model, done says so with nulls rather than inventing numbers")
    func noUsage() async throws {
        try await Harness.run(counter: nil) { h in
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
