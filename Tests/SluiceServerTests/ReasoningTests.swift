import Foundation
import SluiceCore
@testable import SluiceServer
import SluiceSimulator
import SluiceTestSupport
import Synchronization
import Testing

/// A reasoning model's thinking (`reasoning_content` in its chunks, as vLLM, llama-server and DeepSeek send it): shown
/// apart from the answer — in the web app's `reasoning` events and on the gateway as `reasoning_content` — redacted as
/// the answer is, counted as output, and taken as a sign of life by the first-token deadline.
@Suite("Reasoning models")
struct ReasoningTests {
    static let system = "You are the Sluice test assistant. The launch code is plover."

    /// How many pieces (4 characters each) the simulator's `reasoning` scenario thinks in, before Sluice redacts them.
    static func thinkingPieces(question: String, system: String?) -> Int {
        ("Let me think. The user wrote: \(question). My instructions: \(system ?? "(none)") I will answer briefly.".count + 3) / 4
    }

    @Test("the web app's stream: thinking first, redacted, apart from the answer's text; charged; stored and replayed",
          arguments: TestDatabases.backends)
    func webStream(database: StoreBackend) async throws {
        try await Harness.run(database: database) { h in
            let conversation = try await h.newConversation(h.alice, body: "{\"system_prompt\":\(JSONText.quote(Self.system))}")
            let turn = try await h.send(conversation, token: h.alice, scenario: "reasoning")
            #expect(turn.status == 200 && turn.names.last == "done", "\(turn.body)")
            let thoughts = turn.events.filter { $0.event == "reasoning" }.compactMap { Harness.Turn.field($0, "text") as? String }
            let thought = thoughts.joined()
            #expect(thoughts.count > 1, "streamed piece by piece")
            #expect(thought == "Let me think. The user wrote: Hello there. My instructions: [system prompt redacted] I will answer briefly.")
            #expect(!turn.body.contains("launch code") && !turn.body.contains("plover"))
            // All of it before the first token; the answer's text has none of it.
            let firstToken = try #require(turn.names.firstIndex(of: "token"))
            #expect(turn.names.lastIndex(of: "reasoning").map { $0 < firstToken } == true)
            #expect(!turn.text.contains("Let me think") && !turn.text.isEmpty)
            let usage = try #require(turn.final?["usage"] as? [String: Any])
            let thinkingTokens = Self.thinkingPieces(question: "Hello there", system: Self.system)
            #expect(usage["output_tokens"] as? Int == 24 + thinkingTokens)

            // Kept with the answer (never in its text), in the API, and replayed to a client that starts over.
            let stored = try await h.answer(turn)
            #expect(stored.reasoning == thought && stored.content == turn.text)
            // The simulator waits 5 ms between pieces of thinking (175 ms in all). The turn times them as they arrive,
            // and on a loaded machine the first pieces can arrive late and together (CI measured 159 ms once): the
            // measure is most of that span, and never more than the whole answer took.
            let thoughtFor = try #require(stored.reasoningMs)
            let simulatorThinking = 5 * (Self.thinkingPieces(question: "Hello there", system: Self.system) - 1)
            #expect(thoughtFor >= simulatorThinking / 2, "thought for \(thoughtFor) ms of \(simulatorThinking) ms")
            #expect(thoughtFor <= (stored.durationMs ?? 0), "thought for \(thoughtFor) ms, answered in \(stored.durationMs ?? -1) ms")
            let resource = try await h.request(.GET, "/api/messages/\(stored.id)", token: h.alice)
            #expect(resource.json?["reasoning"] as? String == thought && resource.json?["reasoning_ms"] as? Int == thoughtFor)
            let replay = try await h.stream("/api/messages/\(stored.id)/events", token: h.alice)
            #expect(replay.events.filter { $0.event == "reasoning" }.compactMap { Harness.Turn.field($0, "text") as? String } == [thought])
            #expect(replay.text == turn.text)
            let resumed = try await h.stream("/api/messages/\(stored.id)/events", token: h.alice, headers: ["Last-Event-ID": "\(stored.id):3"])
            #expect(!resumed.names.contains("reasoning"), "a client past the first token has seen the thinking")
            // An end without thinking keeps what is stored.
            try await h.store.finish(messageID: stored.id, outcome: AssistantOutcome(
                content: stored.content, status: .complete, usage: stored.usage, ttftMs: 1, durationMs: 2, finishReason: "stop",
                error: nil, tokenEnds: stored.tokenEnds))
            #expect(try await h.store.message(id: stored.id)?.reasoning == thought)
            #expect(try await h.store.message(id: stored.id)?.reasoningMs == thoughtFor)
            // An answer without thinking has none.
            let plain = try await h.answer(try await h.send(conversation, token: h.alice, body: "{\"content\":\"Hi\"}"))
            #expect(plain.reasoning == nil && plain.reasoningMs == nil)
            #expect(try await h.request(.GET, "/api/messages/\(plain.id)", token: h.alice).json?["reasoning"] == nil)
        }
    }

    @Test("thinking is saved while it streams (a crash mid-thought keeps it); a stopped answer's continuation adds to it",
          arguments: TestDatabases.backends)
    func savedWhileThinking(database: StoreBackend) async throws {
        try await Harness.run(database: database) { h in
            let conversation = try await h.newConversation(h.alice)
            let seen = Mutex<(id: String?, shown: String, stored: Message?)>((nil, "", nil))
            // A piece of thinking every 200 ms: about 5 s of it, against progress saved every 250 ms.
            let first = try await h.send(conversation, token: h.alice, scenario: "reasoning", headers: ["X-Sluice-Delay-Ms": "200"]) {
                (event: ServerSentEvent, _: Int) async throws -> Bool in
                if event.event == "meta", let id = Harness.Turn.field(event, "assistant_message_id") as? String {
                    seen.withLock { $0.id = id }
                }
                if event.event == "reasoning", let piece = Harness.Turn.field(event, "text") as? String {
                    seen.withLock { $0.shown += piece }
                }
                guard event.event == "reasoning", let id = seen.withLock({ $0.stored == nil ? $0.id : nil }) else { return true }
                // The answer is still being written: its thinking so far is in the store.
                for _ in 0..<200 {  // up to 20 s: bounded, generous for a loaded machine
                    if let message = try await h.store.message(id: id), message.status == .streaming, message.reasoning?.isEmpty == false {
                        seen.withLock { $0.stored = message }
                        break
                    }
                    try await Task.sleep(for: .milliseconds(100))
                }
                _ = try await h.request(.POST, "/api/messages/\(id)/cancel", token: h.alice)
                return true
            }
            let (shown, midway) = seen.withLock { ($0.shown, $0.stored) }
            let saved = try #require(midway, "no thinking was saved while the answer streamed")
            #expect(saved.status == .streaming && saved.content.isEmpty)
            #expect(shown.hasPrefix(try #require(saved.reasoning)), "what was saved is what the client was shown")
            #expect((saved.reasoningMs ?? -1) >= 0)
            // Stopped mid-thought: the thinking shown is kept with the answer.
            let stopped = try await h.answer(first)
            #expect(stopped.status == .cancelled && stopped.reasoning == first.events.filter { $0.event == "reasoning" }
                .compactMap { Harness.Turn.field($0, "text") as? String }.joined())

            // Continued: this call's thinking follows the earlier one's, and its time is added.
            let continued = try await h.stream(
                "/api/messages/\(stopped.id)/continue", token: h.alice, method: .POST,
                headers: ["X-Sluice-Scenario": "reasoning", "X-Sluice-Tokens": "3"])
            #expect(continued.names.last == "done", "\(continued.body)")
            let more = continued.events.filter { $0.event == "reasoning" }.compactMap { Harness.Turn.field($0, "text") as? String }.joined()
            let ended = try await h.answer(first)
            #expect(!more.isEmpty && ended.reasoning == (stopped.reasoning ?? "") + "\n\n" + more)
            #expect((ended.reasoningMs ?? 0) >= (stopped.reasoningMs ?? .max))
            #expect(ended.status == .complete && !ended.content.isEmpty)
        }
    }

    @Test("a replay from another instance's store sends the thinking as it grows, then the answer", arguments: TestDatabases.backends)
    func replayFollowsSavedThinking(database: StoreBackend) async throws {
        try await Harness.run(database: database) { h in
            let conversation = try await h.newConversation(h.alice)
            try await h.store.insert(Message(
                id: "thinking-elsewhere", conversationID: conversation, role: .assistant, content: "", status: .streaming,
                model: "sim", createdAt: Date()))
            try await h.store.saveProgress([ProgressUpdate(messageID: "thinking-elsewhere", content: "", tokenEnds: [], reasoning: "Let me", reasoningMs: 5)])
            var events = StoredReplay.events(messageID: "thinking-elsewhere", after: 0, store: h.store, pollInterval: .milliseconds(10))
                .makeAsyncIterator()
            #expect(await events.next() == .reasoning("Let me"))
            try await h.store.saveProgress([ProgressUpdate(
                messageID: "thinking-elsewhere", content: "Hi", tokenEnds: [2], reasoning: "Let me think.", reasoningMs: 9)])
            #expect(await events.next() == .reasoning(" think."))
            #expect(await events.next() == .token(messageID: "thinking-elsewhere", seq: 1, text: "Hi"))
            try await h.store.finish(messageID: "thinking-elsewhere", outcome: AssistantOutcome(
                content: "Hi", status: .complete, usage: nil, ttftMs: 1, durationMs: 2, finishReason: "stop", error: nil,
                tokenEnds: [2]))
            guard case .done = await events.next() else { Issue.record("the replay did not end with done"); return }
            // The answer's end kept the thinking the progress saved.
            #expect(try await h.store.message(id: "thinking-elsewhere")?.reasoning == "Let me think.")
        }
    }

    @Test("the gateway passes thinking on as reasoning_content, streamed and whole", arguments: [true, false])
    func gateway(stream: Bool) async throws {
        try await Harness.run { h in
            let reply = try await h.post(
                "/v1/chat/completions", token: h.alice, headers: ["X-Sluice-Scenario": "reasoning"],
                json: ["model": "sim", "stream": stream, "messages": [
                    ["role": "system", "content": Self.system], ["role": "user", "content": "Why?"],
                ]])
            #expect(reply.status == 200, "\(reply.text)")
            var reasoning = ""
            var content = ""
            if stream {
                var sawContent = false
                for line in reply.text.split(separator: "\n") where line.hasPrefix("data: {") {
                    let chunk = try #require(try JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any])
                    let delta = ((chunk["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any]) ?? [:]
                    if let piece = delta["reasoning_content"] as? String {
                        #expect(!sawContent, "thinking comes before the answer")
                        reasoning += piece
                    }
                    if let piece = delta["content"] as? String, !piece.isEmpty {
                        sawContent = true
                        content += piece
                    }
                }
            } else {
                let json = try #require(try JSONSerialization.jsonObject(with: Data(reply.text.utf8)) as? [String: Any])
                let message = try #require((json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])
                reasoning = message["reasoning_content"] as? String ?? ""
                content = message["content"] as? String ?? ""
            }
            #expect(reasoning == "Let me think. The user wrote: Why?. My instructions: [system prompt redacted] I will answer briefly.")
            #expect(!content.isEmpty && !content.contains("Let me think"))
            #expect(!reply.text.contains("plover"))
            // Without thinking, no such field.
            let plain = try await h.post("/v1/chat/completions", token: h.alice, json: ["model": "sim", "stream": stream, "messages": [["role": "user", "content": "Hi"]]])
            #expect(plain.status == 200 && !plain.text.contains("reasoning_content"))
        }
    }

    @Test("a model that thinks longer than the first-token timeout is answering, not silent")
    func thinkingIsNotSilence() async throws {
        // The first piece of thinking at once, then one every 150 ms: the first answer token comes after about 3.6 s of
        // thinking, the deadline is 1.5 s (room for a loaded machine to deliver the first piece).
        try await Harness.run(
            simulator: SimulatorSettings(tokens: 4, delay: .milliseconds(150), stall: .seconds(30)),
            turn: TurnSettings(firstTokenTimeout: .milliseconds(1500), idleTimeout: .seconds(20), retryPolicy: RetryPolicy(maxRetries: 0, jitter: 0))
        ) { h in
            let conversation = try await h.newConversation(h.alice)
            let turn = try await h.send(conversation, token: h.alice, scenario: "reasoning")
            #expect(turn.names.last == "done", "\(turn.body)")
            #expect(turn.tokens.count == 4)
            // A wait of 150 ms between each two of its pieces.
            #expect(try await h.answer(turn).reasoningMs ?? 0 >= (Self.thinkingPieces(question: "Hello there", system: nil) - 1) * 150)
            // And a model that sends nothing at all still times out.
            let silent = try await h.send(conversation, token: h.alice, body: "{\"content\":\"Again\"}", scenario: "stall-first")
            #expect(silent.names.last == "error")
            #expect((silent.final?["code"] as? String) == "upstream_timeout")
        }
    }

    @Test("Anthropic's wire: with thinking enabled, a thinking block before the text, streamed and whole; without, none",
          arguments: [true, false])
    func anthropicThinkingBlocks(stream: Bool) async throws {
        try await Harness.run { h in
            for enabled in [true, false] {
                var body: [String: Any] = [
                    "model": "sim", "max_tokens": 2000, "stream": stream, "system": Self.system,
                    "messages": [["role": "user", "content": "Why?"]],
                ]
                if enabled { body["thinking"] = ["type": "enabled", "budget_tokens": 1024] }
                let reply = try await h.post(
                    "/v1/messages", token: h.alice, asAPIKey: true, headers: ["X-Sluice-Scenario": "reasoning"], json: body)
                #expect(reply.status == 200, "\(reply.text)")
                var blocks: [(type: String, text: String)] = []
                if stream {
                    var parser = SSEParser()
                    for event in parser.feed(Array(reply.text.utf8)[...]) {
                        let data = try #require(try JSONSerialization.jsonObject(with: Data(event.data.utf8)) as? [String: Any])
                        if event.event == "content_block_start", let block = data["content_block"] as? [String: Any] {
                            #expect(data["index"] as? Int == blocks.count)
                            blocks.append((block["type"] as? String ?? "?", ""))
                        }
                        if event.event == "content_block_delta", let delta = data["delta"] as? [String: Any] {
                            #expect(data["index"] as? Int == blocks.count - 1)
                            blocks[blocks.count - 1].text += (delta["thinking"] as? String) ?? (delta["text"] as? String) ?? ""
                        }
                    }
                } else {
                    let message = try #require(try JSONSerialization.jsonObject(with: Data(reply.text.utf8)) as? [String: Any])
                    for block in message["content"] as? [[String: Any]] ?? [] {
                        let type = block["type"] as? String ?? "?"
                        blocks.append((type, (type == "thinking" ? block["thinking"] : block["text"]) as? String ?? ""))
                    }
                }
                let expected = "Let me think. The user wrote: Why?. My instructions: [system prompt redacted] I will answer briefly."
                if enabled {
                    #expect(blocks.map(\.type) == ["thinking", "text"])
                    #expect(blocks.first?.text == expected)
                } else {
                    #expect(blocks.map(\.type) == ["text"])
                }
                #expect(blocks.last.map { !$0.text.isEmpty && !$0.text.contains("Let me think") } == true)
                #expect(!reply.text.contains("plover"))
            }
        }
    }

    /// What the `reasoning` scenario thinks of "Why?" under `system` (its words redacted).
    static let responsesThought = "Let me think. The user wrote: Why?. My instructions: [system prompt redacted] I will answer briefly."

    /// A Responses call ("Why?") in the `reasoning` scenario, with more `fields`: its events when streamed (`nil` when
    /// whole) and the response.
    static func reasoningResponse(
        _ h: Harness, stream: Bool, _ fields: [String: Any] = [:]
    ) async throws -> (events: [[String: Any]]?, response: [String: Any]) {
        let reply = try await h.post(
            "/v1/responses", token: h.alice, headers: ["X-Sluice-Scenario": "reasoning"],
            json: ["model": "sim", "stream": stream, "instructions": system, "input": "Why?"].merging(fields) { $1 })
        #expect(reply.status == 200, "\(reply.text)")
        guard stream else {
            return (nil, try #require(try JSONSerialization.jsonObject(with: Data(reply.text.utf8)) as? [String: Any]))
        }
        var parser = SSEParser()
        let data = parser.feed(Array(reply.text.utf8)[...]).compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.data.utf8)) as? [String: Any]
        }
        return (data, try #require(data.last?["response"] as? [String: Any]))
    }

    @Test("the Responses API: a reasoning item with the thinking before the message, streamed, whole and retrieved",
          arguments: [true, false])
    func responsesReasoningItem(stream: Bool) async throws {
        try await Harness.run { h in
            let (events, response) = try await Self.reasoningResponse(h, stream: stream)
            let expected = Self.responsesThought
            if let data = events {
                #expect(data.map { $0["sequence_number"] as? Int ?? -1 } == Array(0..<data.count))
                let types = data.compactMap { $0["type"] as? String }
                #expect(Array(types.dropFirst(2).prefix(3)) == ["response.output_item.added", "response.content_part.added", "response.reasoning_text.delta"])
                let deltas = data.filter { $0["type"] as? String == "response.reasoning_text.delta" }.compactMap { $0["delta"] as? String }
                #expect(deltas.joined() == expected)
                #expect(data.first { $0["type"] as? String == "response.reasoning_text.done" }?["text"] as? String == expected)
                // The reasoning item is done before the message's starts.
                let reasoningDone = try #require(types.firstIndex(of: "response.reasoning_text.done"))
                #expect(types.firstIndex(of: "response.output_text.delta").map { $0 > reasoningDone } == true)
            }
            for object in [response, try #require(try await h.request(.GET, "/v1/responses/\(response["id"] as? String ?? "")", token: h.alice).json)] {
                let output = try #require(object["output"] as? [[String: Any]])
                #expect(output.map { $0["type"] as? String ?? "?" } == ["reasoning", "message"])
                #expect(((output[0]["content"] as? [[String: Any]])?.first?["text"] as? String) == expected)
                #expect((output[0]["id"] as? String)?.hasPrefix("rs_") == true)
                #expect(!ResponsesGatewayTests.outputText(object).contains("Let me think"))
            }
        }
    }

    @Test("the Responses API with reasoning.summary (as Codex CLI asks): the thinking is the reasoning item's summary, streamed as summary events",
          arguments: [true, false])
    func responsesReasoningSummary(stream: Bool) async throws {
        try await Harness.run { h in
            let (events, response) = try await Self.reasoningResponse(h, stream: stream, ["reasoning": ["summary": "detailed"]])
            let expected = Self.responsesThought
            if let data = events {
                let types = data.compactMap { $0["type"] as? String }
                #expect(Array(types.dropFirst(2).prefix(3))
                    == ["response.output_item.added", "response.reasoning_summary_part.added", "response.reasoning_summary_text.delta"])
                let deltas = data.filter { $0["type"] as? String == "response.reasoning_summary_text.delta" }
                #expect(deltas.compactMap { $0["delta"] as? String }.joined() == expected)
                #expect(deltas.allSatisfy { $0["summary_index"] as? Int == 0 && $0["content_index"] == nil })
                #expect(!types.contains("response.reasoning_text.delta"))
                #expect(data.first { $0["type"] as? String == "response.reasoning_summary_text.done" }?["text"] as? String == expected)
                let partDone = data.first { $0["type"] as? String == "response.reasoning_summary_part.done" }
                #expect((partDone?["part"] as? [String: Any])?["text"] as? String == expected)
                let textStart = try #require(types.firstIndex(of: "response.output_text.delta"))
                #expect(types.firstIndex(of: "response.reasoning_summary_part.done").map { $0 < textStart } == true)
            }
            #expect((response["reasoning"] as? [String: Any])?["summary"] as? String == "detailed")
            let output = try #require(response["output"] as? [[String: Any]])
            #expect(output.map { $0["type"] as? String ?? "?" } == ["reasoning", "message"])
            let item = try #require(output.first)
            #expect(((item["summary"] as? [[String: Any]])?.first?["text"] as? String) == expected)
            #expect(((item["summary"] as? [[String: Any]])?.first?["type"] as? String) == "summary_text")
            #expect(item["content"] == nil)

            let bad = try await h.post(
                "/v1/responses", token: h.alice, json: ["model": "sim", "input": "Why?", "reasoning": ["summary": "short"]])
            #expect(bad.status == 400)
            #expect(bad.text.contains("reasoning.summary"))
        }
    }
}
