import AsyncHTTPClient
import Foundation
import HummingbirdTesting
import NIOCore
import SluiceCore
import SluiceProviders
import SluiceServer
import SluiceSimulator
import Synchronization
import Testing

/// Paths of the real llama-server and SmolLM2 weights, set by scripts/test.sh after it installs them.
enum LocalModel {
    static let binary = ProcessInfo.processInfo.environment["SLUICE_LLAMA_SERVER"]
    static let model = ProcessInfo.processInfo.environment["SLUICE_LOCAL_MODEL"]
    static var configured: Bool { binary != nil && model != nil }
}

@Suite("The real local model (llama-server + SmolLM2-135M)", .enabled(if: LocalModel.configured), .serialized)
struct LocalModelTests {
    @Test("a chat turn against SmolLM2 streams tokens and ends with the provider's usage; llama-server stops after")
    func realModelTurn() async throws {
        let logPath = FileManager.default.temporaryDirectory.appendingPathComponent("llama-\(UUID().uuidString).log").path
        let llama = LlamaServerProcess(binary: try #require(LocalModel.binary), modelPath: try #require(LocalModel.model), logPath: logPath)
        let baseURL = try await llama.start()
        do {
            try await Harness.run(
                turn: TurnSettings(firstTokenTimeout: .seconds(60), idleTimeout: .seconds(30), maxOutputTokens: 48),
                upstreamOverride: baseURL
            ) { h in
                let conversation = try await h.newConversation(h.alice, body: "{\"system_prompt\":\"You are a helpful assistant.\"}")
                let turn = try await h.send(conversation, token: h.alice, body: "{\"content\":\"What is the capital of France?\",\"temperature\":0}")
                #expect(turn.names.first == "meta")
                #expect(turn.last?.event == "done")
                #expect(turn.tokens.count >= 1)
                #expect(!turn.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
                let usage = try #require(turn.final?["usage"] as? [String: Any])
                let input = try #require(usage["input_tokens"] as? Int)
                let output = try #require(usage["output_tokens"] as? Int)
                #expect(input > 10)
                #expect(output >= 1 && output <= 48)
                #expect(usage["total_tokens"] as? Int == input + output)
                #expect(["stop", "length"].contains(turn.final?["finish_reason"] as? String ?? ""))
                let stored = try await h.answer(turn)
                #expect(stored.status == .complete)
                #expect(stored.content == turn.text)
                // Ready: the store and llama-server's /v1/models answer. With the whole suite on two cores (several
                // llama-servers loading at once) one check can miss its 5 s timeout, so readiness is asked again, up
                // to a deadline; a server that never answers still fails.
                let deadline = ContinuousClock.now + .seconds(60)
                var ready = try await h.request(.GET, "/readyz", token: nil)
                while ready.status != 200, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(200))
                    ready = try await h.request(.GET, "/readyz", token: nil)
                }
                #expect(ready.status == 200, "\(ready.json ?? [:])")

                // The conversation's next prompt begins with this one: llama-server reads that part from its slot's
                // cache and says so (`prompt_tokens_details.cached_tokens`), and Sluice keeps the figure.
                let next = try await h.send(conversation, token: h.alice, body: "{\"content\":\"And of Italy?\",\"temperature\":0}")
                #expect(next.last?.event == "done")
                let nextUsage = try #require(next.final?["usage"] as? [String: Any])
                let cached = try #require(nextUsage["cached_input_tokens"] as? Int)
                #expect(cached >= input - 1 && cached < (nextUsage["input_tokens"] as? Int ?? 0))
                #expect(try await h.answer(next).usage?.cachedInputTokens == cached)
            }
        } catch {
            llama.terminate()
            throw error
        }
        #expect(llama.isRunning)
        llama.terminate()
        #expect(!llama.isRunning)
    }

    /// Sluice's gateway in front of a llama-server with SmolLM2 (40 output tokens at most), stopped afterwards.
    static func withGatewayOnLocalModel(
        catalog: ModelCatalog = ModelCatalog(), _ body: @escaping @Sendable (Harness) async throws -> Void
    ) async throws {
        let logPath = FileManager.default.temporaryDirectory.appendingPathComponent("llama-\(UUID().uuidString).log").path
        let llama = LlamaServerProcess(binary: try #require(LocalModel.binary), modelPath: try #require(LocalModel.model), logPath: logPath)
        let baseURL = try await llama.start()
        defer { llama.terminate() }
        try await Harness.run(
            turn: TurnSettings(firstTokenTimeout: .seconds(60), idleTimeout: .seconds(30), maxOutputTokens: 40),
            upstreamOverride: baseURL, catalog: catalog, body)
    }

    /// A greedy, non-streamed answer to `question` through the gateway, with more request fields in `options`
    /// (`,"stop":[…]`): its text and finish reason.
    static func complete(_ question: String, _ options: String = "", in h: Harness) async throws -> (text: String, finish: String?) {
        let reply = try await h.request(
            .POST, "/v1/chat/completions", token: h.alice,
            body: #"{"model":"sim","temperature":0,"seed":1,"messages":[{"role":"user","content":\#(JSONText.quote(question))}]\#(options)}"#)
        #expect(reply.status == 200)
        let choice = try #require((reply.json?["choices"] as? [[String: Any]])?.first)
        return (try #require((choice["message"] as? [String: Any])?["content"] as? String), choice["finish_reason"] as? String)
    }

    @Test("the gateway passes a caller's stop sequence to the model: the same greedy answer, cut where the stop text would start")
    func stopSequenceReachesTheModel() async throws {
        try await Self.withGatewayOnLocalModel { h in
            let question = "Name three colours of the rainbow."
            let whole = try await Self.complete(question, in: h)
            let words = whole.text.split(separator: " ")
            try #require(words.count >= 4, "the model's answer: \(whole.text)")
            // A word from the middle of the answer: the model stops just before it.
            let stopWord = String(words[words.count / 2])
            let cut = try await Self.complete(question, #","stop":[\#(JSONText.quote(stopWord))]"#, in: h)
            let stopAt = try #require(whole.text.range(of: stopWord)).lowerBound
            let expected = String(whole.text[..<stopAt])
            #expect(cut.text == expected, "whole: \(whole.text)")
            #expect(cut.finish == "stop")
        }
    }

    @Test("chat log probabilities from SmolLM2: one entry per token, spelling the answer, the greedy choice the likeliest, streamed as whole")
    func chatLogprobs() async throws {
        try await Self.withGatewayOnLocalModel { h in
            let options: [String: Any] = ["logprobs": true, "top_logprobs": 2, "temperature": 0, "seed": 1, "max_tokens": 12]
            let whole = try await GatewayLogprobsTests.call(h, stream: false, extra: options)
            let streamed = try await GatewayLogprobsTests.call(h, stream: true, extra: options)
            for answer in [whole, streamed] {
                #expect(!answer.text.isEmpty)
                #expect(answer.tokens.joined() == answer.text, "\(answer.tokens)")
                // The model's own output tokens: as many as llama-server counted (12, or fewer if it stopped).
                #expect((1...12).contains(answer.entries.count))
                for entry in answer.entries {
                    let logprob = try #require(entry["logprob"] as? Double)
                    let top = entry["top_logprobs"] as? [[String: Any]] ?? []
                    #expect(logprob <= 0 && top.count == 2)
                    // Greedy: the token chosen is the likeliest one.
                    #expect(top.first?["token"] as? String == entry["token"] as? String, "\(entry)")
                    #expect((top.first?["logprob"] as? Double ?? -.infinity) >= (top.last?["logprob"] as? Double ?? 0))
                }
            }
            #expect(streamed.everyTextChunkHasLogprobs)
            #expect(streamed.text == whole.text && streamed.tokens == whole.tokens)
        }
    }

    @Test("the gateway passes a caller's JSON schema to the model: SmolLM2, which answers this in prose, answers with JSON that fits it")
    func jsonSchemaReachesTheModel() async throws {
        try await Self.withGatewayOnLocalModel { h in
            let question = "What is 2+2?"
            let prose = try await Self.complete(question, in: h).text
            #expect((try? JSONSerialization.jsonObject(with: Data(prose.utf8))) == nil, "the model's own answer: \(prose)")
            // Two fields, in an order the model would not pick alphabetically: the grammar follows the schema's.
            let schema = #"{"type":"object","properties":{"sum":{"type":"integer"},"explanation":{"type":"string","maxLength":20}},"required":["sum","explanation"]}"#
            let json = try await Self.complete(
                question, #","response_format":{"type":"json_schema","json_schema":{"name":"arithmetic","schema":\#(schema)}}"#, in: h).text
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], "\(json)")
            #expect(object["sum"] is Int && object["explanation"] is String, "\(json)")
            let sum = try #require(json.range(of: "\"sum\"")), explanation = try #require(json.range(of: "\"explanation\""))
            #expect(sum.lowerBound < explanation.lowerBound, "\(json)")
        }
    }

    @Test("tools and a function's result reach llama-server as OpenAI's fields: accepted, and counted in its prompt")
    func toolsReachTheModel() async throws {
        try await Self.withGatewayOnLocalModel { h in
            let tools = #","tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]"#
            func inputTokens(_ messages: String) async throws -> Int {
                let reply = try await h.request(
                    .POST, "/v1/chat/completions", token: h.alice,
                    body: #"{"model":"sim","temperature":0,"messages":\#(messages)\#(tools)}"#)
                #expect(reply.status == 200, "\(reply.errorMessage ?? "")")
                let choice = (reply.json?["choices"] as? [[String: Any]])?.first
                #expect(choice?["finish_reason"] != nil)
                return try #require((reply.json?["usage"] as? [String: Any])?["prompt_tokens"] as? Int)
            }
            let question = #"{"role":"user","content":"What is the weather in Paris?"}"#
            let alone = try await inputTokens("[\(question)]")
            let withResult = try await inputTokens(
                #"[\#(question),{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},{"role":"tool","tool_call_id":"c1","content":"18 degrees and sunny over the whole city"}]"#)
            // The model's own count (llama-server's usage): the call and its result are in the prompt it read.
            #expect(withResult > alone + 8, "alone \(alone), with the result \(withResult)")
        }
    }

    @Test("a prefilled answer on SmolLM2: llama-server continues the final assistant message; the caller gets the continuation alone, whole and streamed")
    func prefilledAnswer() async throws {
        try await Self.withGatewayOnLocalModel { h in
            let start = "1, 2, 3, 4,"
            let body = #""model":"sim","temperature":0,"seed":1,"max_tokens":12,"messages":[{"role":"user","content":"Count from 1 to 10, separated by commas."},{"role":"assistant","content":\#(JSONText.quote(start))}]"#
            let whole = try await h.request(.POST, "/v1/chat/completions", token: h.alice, body: "{\(body)}")
            #expect(whole.status == 200, "\(whole.errorMessage ?? "")")
            let choice = try #require((whole.json?["choices"] as? [[String: Any]])?.first)
            let text = try #require((choice["message"] as? [String: Any])?["content"] as? String)
            // The model counts on from where the start stopped; llama-server's repeat of the start is not passed on.
            #expect(text.trimmingCharacters(in: .whitespaces).hasPrefix("5"), "\(text)")
            #expect(!text.contains("1, 2, 3, 4"), "\(text)")
            let conversation = try #require(whole.headers.first(name: "X-Sluice-Conversation-Id"))
            let stored = try #require(try await h.store.messages(conversationID: conversation).last)
            #expect(stored.content == start + text)

            let streamed = try await h.stream(
                "/v1/chat/completions", token: h.alice, method: .POST, body: "{\(body),\"stream\":true}",
                headers: ["Content-Type": "application/json"])
            let pieces = streamed.events.compactMap { event -> String? in
                guard let chunk = Harness.Turn.object(event), let choice = (chunk["choices"] as? [[String: Any]])?.first else { return nil }
                return (choice["delta"] as? [String: Any])?["content"] as? String
            }
            #expect(pieces.joined() == text)
        }
    }

    @Test("Continue on SmolLM2, which llama-server continues as a prefill: the cancelled answer goes on where it stopped, stored once, not said again")
    func continueOnLocalModel() async throws {
        var catalog = ModelCatalog()
        catalog.setContinuesPrefill("sim", true)
        try await Self.withGatewayOnLocalModel(catalog: catalog) { h in
            let conversation = try await h.newConversation(h.alice)
            // Stopped after a few tokens, as the Stop button does.
            let first = try await h.send(
                conversation, token: h.alice, body: #"{"content":"Count from 1 to 30, separated by commas.","temperature":0}"#
            ) { event, count in
                if event.event == "token", count == 6, let id = event.id?.split(separator: ":").first {
                    _ = try await h.request(.POST, "/api/messages/\(id)/cancel", token: h.alice)
                }
                return true
            }
            let partial = try await h.answer(first)
            try #require(partial.status == .cancelled, "\(partial.status) \(partial.content)")
            try #require(!partial.content.isEmpty)

            let id = try #require(first.assistantID)
            let continued = try await h.stream("/api/messages/\(id)/continue", token: h.alice, method: .POST, body: #"{"temperature":0}"#)
            #expect(continued.names.last == "done", "\(continued.body)")
            let stored = try await h.answer(first)
            #expect(stored.content.hasPrefix(partial.content))
            let added = String(stored.content.dropFirst(partial.content.count))
            // llama-server said the partial answer again before going on: that repeat is not stored (nor streamed).
            #expect(!added.isEmpty && !added.hasPrefix(partial.content), "partial: \(partial.content) | added: \(added)")
            #expect(continued.text == added)
        }
    }

    @Test("SmolLM2 names a conversation after its first answer: the start 'Title:' makes it write a title, not answer again; one line, on topic")
    func titleFromLocalModel() async throws {
        var catalog = ModelCatalog()
        catalog.setContinuesPrefill("sim", true)
        try await Self.withGatewayOnLocalModel(catalog: catalog) { h in
            let conversation = try await h.newConversation(h.alice)
            let turn = try await h.send(conversation, token: h.alice, body: #"{"content":"How do I reverse a list in Python?","temperature":0}"#)
            #expect(turn.names.last == "done", "\(turn.body)")
            let reply = try await h.post("/api/conversations/\(conversation)/title", token: h.alice, json: [:])
            #expect(reply.status == 200, "\(reply.text)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(reply.text.utf8)) as? [String: Any])
            let title = try #require(json["title"] as? String)
            #expect(!title.isEmpty && title.count <= 61 && !title.contains("\n"), "\(title)")
            #expect(!title.lowercased().hasPrefix("title"), "\(title)")
            // A few words, not an answer (without the start SmolLM2 answers again: "You can use `my_list[::-1]` to …").
            #expect(title.split(separator: " ").count <= 8 && !title.contains("`"), "\(title)")
            #expect(title.lowercased().contains("python") || title.lowercased().contains("list"), "\(title)")
            #expect(try await h.store.conversation(id: conversation)?.title == title)
            // llama-server's own count, at most the title's 32 tokens.
            let usage = try #require(json["usage"] as? [String: Any])
            #expect((usage["output_tokens"] as? Int).map { (1...32).contains($0) } == true, "\(usage)")
            #expect(usage["source"] as? String == "provider")
        }
    }

    @Test("a text completion (/v1/completions) against SmolLM2: streamed and whole give the same greedy text, logprobs come through, llama-server's usage is charged; two answers are charged Sluice's count of each")
    func textCompletion() async throws {
        let logPath = FileManager.default.temporaryDirectory.appendingPathComponent("llama-\(UUID().uuidString).log").path
        let llama = LlamaServerProcess(binary: try #require(LocalModel.binary), modelPath: try #require(LocalModel.model), logPath: logPath)
        let baseURL = try await llama.start()
        defer { llama.terminate() }
        // Counted with the model's own tokenizer, as Sluice counts for its local model.
        let counter = LlamaServerPromptCounter(baseURL: baseURL, httpClient: Harness.client)
        try await Harness.run(
            turn: TurnSettings(firstTokenTimeout: .seconds(60), idleTimeout: .seconds(30)), upstreamOverride: baseURL, counter: counter,
            budgets: true
        ) { h in
            let request: [String: Any] = ["model": "sim", "prompt": "The capital of France is", "max_tokens": 8, "temperature": 0, "seed": 1]
            let whole = try await h.post("/v1/completions", token: h.alice, json: request)
            #expect(whole.status == 200, "\(whole.text)")
            let answer = try #require(TextCompletionsTests.object(whole.text))
            let choice = try #require((answer["choices"] as? [[String: Any]])?.first)
            let text = try #require(choice["text"] as? String)
            #expect(!text.isEmpty && choice["finish_reason"] as? String == "length")
            let usage = try #require(answer["usage"] as? [String: Any])
            let promptTokens = try #require(usage["prompt_tokens"] as? Int)
            #expect(usage["completion_tokens"] as? Int == 8 && promptTokens > 0)

            var streamed = request
            streamed["stream"] = true
            streamed["stream_options"] = ["include_usage": true]
            let turn = try await h.stream("/v1/completions", token: h.alice, method: .POST, body: try TextCompletionsTests.json(streamed))
            let (chunks, done) = TextCompletionsTests.chunks(turn)
            #expect(done && TextCompletionsTests.text(of: chunks) == text, "greedy: the same text either way")
            #expect((chunks.last?["usage"] as? [String: Any])?["completion_tokens"] as? Int == 8)

            // An option Sluice does not read reaches the model: the tokens' log probabilities come back.
            var scored = request
            scored["logprobs"] = 2
            let withLogprobs = try #require(TextCompletionsTests.object(try await h.post("/v1/completions", token: h.alice, json: scored).text))
            let logprobs = (withLogprobs["choices"] as? [[String: Any]])?.first?["logprobs"]
            #expect(logprobs is [String: Any], "\(withLogprobs)")

            var totals = try #require(
                try await h.request(.GET, "/api/usage?period=today&group=model", token: h.alice).json?["totals"] as? [String: Any])
            #expect(totals["output_tokens"] as? Int == 24 && totals["input_tokens"] as? Int == 3 * promptTokens)

            // Two answers, streamed: llama-server writes both (each ending with an empty chunk that has the usage of
            // its own slot), and Sluice charges its own count of each answer's text.
            var two = request
            two["n"] = 2
            two["stream"] = true
            let pair = try await h.stream("/v1/completions", token: h.alice, method: .POST, body: try TextCompletionsTests.json(two))
            let (pairChunks, pairDone) = TextCompletionsTests.chunks(pair)
            #expect(pairDone && TextCompletionsTests.text(of: pairChunks, choice: 0) == text && TextCompletionsTests.text(of: pairChunks, choice: 1) == text)
            let counts = pairChunks.compactMap { ($0["usage"] as? [String: Any])?["completion_tokens"] as? Int }
            let said = try #require(counts.last)
            let eachAnswer = try await counter.textTokens(text)
            totals = try #require(
                try await h.request(.GET, "/api/usage?period=today&group=model", token: h.alice).json?["totals"] as? [String: Any])
            // Each answer is the same 8 greedy tokens; llama-server's last usage says one slot's 8; Sluice charges its
            // count of each answer's text: the 16 tokens generated (not its count of the pieces as they arrived,
            // interleaved, which ran words together: 13).
            #expect(said == 8 && eachAnswer == said, "llama-server said \(said), Sluice counted \(eachAnswer)")
            #expect(totals["output_tokens"] as? Int == 24 + 2 * eachAnswer)
        }
    }

    @Test("when another server holds the port llama-server was given, llama-server starts on another port instead of that server being taken for it")
    func portTakenByAnotherServer() async throws {
        // The simulator answers /health with 200, as llama-server does: the port it holds is handed to the child first.
        try await Simulator.application(port: 0, settings: SimulatorSettings()).test(.live) { simulator in
            let taken = try #require(simulator.port)
            let handedOut = Mutex(0)
            let llama = LlamaServerProcess(
                binary: try #require(LocalModel.binary), modelPath: try #require(LocalModel.model),
                choosePort: { host in
                    let first = handedOut.withLock { count in
                        count += 1
                        return count == 1
                    }
                    return first ? taken : try await LlamaServerProcess.freePort(host: host)
                })
            let baseURL = try await llama.start()
            #expect(handedOut.withLock { $0 } == 2)
            #expect(baseURL != "http://127.0.0.1:\(taken)/v1")
            #expect(llama.isRunning)
            // The child itself answers: llama-server's /props names the model it loaded.
            let props = try await HTTPClient.shared.execute(
                HTTPClientRequest(url: baseURL.replacingOccurrences(of: "/v1", with: "/props")), timeout: .seconds(10))
            let body = try await props.body.collect(upTo: 1 << 20)
            #expect(String(buffer: body).contains("SmolLM2"))
            llama.terminate()
            #expect(!llama.isRunning)
        }
    }
}
