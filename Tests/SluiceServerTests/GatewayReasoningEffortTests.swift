import Foundation
import NIOHTTP1
import SluiceCore
@testable import SluiceServer
import SluiceTestSupport
import Testing

/// A caller's reasoning effort on each wire — Chat Completions' `reasoning_effort` (or LiteLLM's `thinking`),
/// the Messages API's `thinking`, the Responses API's `reasoning.effort` — reaches the upstream in its own words
/// (the simulator's `echo` says what it got; its Anthropic side refuses, as the API does, a thinking request that
/// breaks the API's rules), and an Anthropic model's extended thinking comes back and is stored as thinking.
@Suite("Reasoning effort on the gateway")
struct GatewayReasoningEffortTests {
    static func message(_ reply: (status: Int, headers: HTTPHeaders, text: String)) throws -> [String: Any] {
        let json = try #require(try JSONSerialization.jsonObject(with: Data(reply.text.utf8)) as? [String: Any], "\(reply.text)")
        return try #require((json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])
    }

    static func error(_ reply: (status: Int, headers: HTTPHeaders, text: String)) throws -> [String: Any] {
        let json = try #require(try JSONSerialization.jsonObject(with: Data(reply.text.utf8)) as? [String: Any], "\(reply.text)")
        return try #require(json["error"] as? [String: Any])
    }

    @Test("to an OpenAI-compatible upstream: reasoning_effort as asked, a thinking budget as the level it matches")
    func openAIUpstream() async throws {
        try await Harness.run { h in
            func echoed(_ options: [String: Any]) async throws -> String {
                let reply = try await h.post(
                    "/v1/chat/completions", token: h.alice, headers: ["X-Sluice-Scenario": "echo"],
                    json: ["model": "sim", "messages": [["role": "user", "content": "Think"]]].merging(options) { $1 })
                #expect(reply.status == 200, "\(reply.text)")
                return try Self.message(reply)["content"] as? String ?? ""
            }
            #expect(try await echoed(["reasoning_effort": "high"]) == "user: Think\nreasoning effort: high\n")
            #expect(try await echoed(["thinking": ["type": "enabled", "budget_tokens": 2048]]) == "user: Think\nreasoning effort: medium\n")
            #expect(try await echoed([:]) == "user: Think\n")
            // A different effort is a different request: not answered from the response cache of another.
            #expect(try await echoed(["reasoning_effort": "low"]) == "user: Think\nreasoning effort: low\n")

            // A model told not to think does not (the simulator's reasoning model obeys `none`).
            let thinking = try await h.post(
                "/v1/chat/completions", token: h.alice, headers: ["X-Sluice-Scenario": "reasoning"],
                json: ["model": "sim", "messages": [["role": "user", "content": "Hi"]]])
            #expect((try Self.message(thinking)["reasoning_content"] as? String)?.isEmpty == false)
            let plain = try await h.post(
                "/v1/chat/completions", token: h.alice, headers: ["X-Sluice-Scenario": "reasoning"],
                json: ["model": "sim", "messages": [["role": "user", "content": "Hi"]], "reasoning_effort": "none"])
            #expect(try Self.message(plain)["reasoning_content"] == nil)
        }
    }

    @Test("a reasoning option the upstream would refuse is a 400 naming the field, and nothing is stored")
    func refusals() async throws {
        try await Harness.run { h in
            let cases: [([String: Any], String, String)] = [
                (["reasoning_effort": "max"], "reasoning_effort", "none, minimal, low, medium, high or xhigh"),
                (["thinking": ["type": "enabled", "budget_tokens": 512]], "thinking.budget_tokens", "at least 1024"),
                (["thinking": ["type": "enabled"]], "thinking.budget_tokens", "required"),
                (["thinking": ["type": "sometimes"]], "thinking.type", "'enabled'"),
                (["thinking": ["type": "enabled", "budget_tokens": 2048], "reasoning_effort": "low"], "thinking", "not both"),
            ]
            for (options, param, words) in cases {
                let reply = try await h.post(
                    "/v1/chat/completions", token: h.alice,
                    json: ["model": "sim", "messages": [["role": "user", "content": "Hi"]]].merging(options) { $1 })
                #expect(reply.status == 400, "\(reply.text)")
                let error = try Self.error(reply)
                #expect(error["param"] as? String == param)
                #expect((error["message"] as? String)?.contains(words) == true, "\(error)")
            }
            let messages: [[String: Any]] = [["role": "user", "content": "Hi"]]
            let anthropicCases: [([String: Any], String)] = [
                (["max_tokens": 4000, "thinking": ["type": "enabled", "budget_tokens": 100]], "at least 1024"),
                (["max_tokens": 2048, "thinking": ["type": "enabled", "budget_tokens": 2048]], "'max_tokens' (2048) must be greater than 'thinking.budget_tokens' (2048)"),
            ]
            for (options, words) in anthropicCases {
                let reply = try await h.post(
                    "/v1/messages", token: h.alice, asAPIKey: true,
                    json: ["model": "sim", "messages": messages].merging(options) { $1 })
                #expect(reply.status == 400, "\(reply.text)")
                #expect(reply.text.contains(words), "\(reply.text)")
            }
            let responses = try await h.post(
                "/v1/responses", token: h.alice, json: ["model": "sim", "input": "Hi", "reasoning": ["effort": "extreme"]])
            #expect(responses.status == 400)
            #expect(try Self.error(responses)["param"] as? String == "reasoning.effort")
            #expect((try await h.request(.GET, "/api/conversations", token: h.alice).json?["conversations"] as? [Any])?.isEmpty == true)
        }
    }

    @Test("to an Anthropic upstream: extended thinking within the API's rules, streamed back as thinking and stored",
          arguments: TestDatabases.backends)
    func anthropicUpstream(database: StoreBackend) async throws {
        try await Harness.run(database: database, anthropic: true) { h in
            // A temperature the API refuses with thinking, and a limit below the level's budget: both handled.
            let reply = try await h.post(
                "/v1/chat/completions", token: h.alice,
                json: ["model": "sim", "messages": [["role": "user", "content": "Why is the sky blue?"]], "reasoning_effort": "high",
                       "temperature": 0.5, "max_tokens": 1500, "stream": true])
            #expect(reply.status == 200, "\(reply.text)")
            var thinking = "", text = ""
            for line in reply.text.split(separator: "\n") where line.hasPrefix("data: {") {
                let chunk = try #require(try JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any])
                let delta = (chunk["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any]
                thinking += delta?["reasoning_content"] as? String ?? ""
                text += delta?["content"] as? String ?? ""
                #expect(chunk["error"] == nil, "\(chunk)")
            }
            #expect(thinking == "Let me think about: Why is the sky blue?")
            #expect(!text.isEmpty && !text.contains("Let me think"))
            let conversation = try #require(reply.headers.first(name: "X-Sluice-Conversation-Id"))
            let answer = try #require(try await h.store.messages(conversationID: conversation).last)
            #expect(answer.reasoning == thinking && answer.content == text)

            // What the upstream was asked: the budget cut so that the answer keeps half the limit, not under 1 024.
            let echoed = try await h.post(
                "/v1/chat/completions", token: h.alice, headers: ["X-Sluice-Scenario": "echo"],
                json: ["model": "sim", "messages": [["role": "user", "content": "Hi"]], "reasoning_effort": "high", "max_tokens": 1500])
            #expect(try Self.message(echoed)["content"] as? String == "user: Hi\nthinking: budget 1024 of max_tokens 1500\n")
            #expect(try Self.message(echoed)["reasoning_content"] as? String == "Let me think about: Hi")
        }
    }

    @Test("a user with a budget is held for the thinking too: the answer keeps its room beside the thinking")
    func heldForTheThinking() async throws {
        try await Harness.run(budgets: true, anthropic: true) { h in
            let alice = try #require(try await h.store.user(named: "alice"))
            try await h.store.setPlan(userID: alice.id, plan: .pro, tokenLimit: 100_000)
            let reply = try await h.post(
                "/v1/chat/completions", token: h.alice, headers: ["X-Sluice-Scenario": "echo"],
                json: ["model": "sim", "messages": [["role": "user", "content": "Hi"]], "reasoning_effort": "high"])
            #expect(reply.status == 200, "\(reply.text)")
            // The default reserve (1 024) and high's 4 096: before, the budget's allowance of 1 024 left no room to think.
            #expect(try Self.message(reply)["content"] as? String == "user: Hi\nthinking: budget 4096 of max_tokens 5120\n", "\(reply.text)")
            let plain = try await h.post(
                "/v1/chat/completions", token: h.alice, headers: ["X-Sluice-Scenario": "echo"],
                json: ["model": "sim", "messages": [["role": "user", "content": "Hi"]]])
            #expect(try Self.message(plain)["content"] as? String == "user: Hi\n")
            // Near the end of the budget, what is left is the limit: the answer keeps 1 024 of it.
            try await h.store.setPlan(userID: alice.id, plan: .pro, tokenLimit: 3000)
            let late = try await h.post(
                "/v1/chat/completions", token: h.alice, headers: ["X-Sluice-Scenario": "echo"],
                json: ["model": "sim", "messages": [["role": "user", "content": "Hi"]], "reasoning_effort": "high"])
            let left = try #require((try await h.request(.GET, "/api/usage/limits", token: h.alice)).json)
            #expect(late.status == 200, "\(late.text) \(left)")
            let said = try Self.message(late)["content"] as? String ?? ""
            let limit = try #require(said.split(separator: " ").last.flatMap { Int($0.dropLast()) }, "\(said)")
            #expect(limit < 3000 && said == "user: Hi\nthinking: budget \(max(1024, limit - 1024)) of max_tokens \(limit)\n")
        }
    }

    @Test("the context window keeps the thinking's room free: with an effort, fewer earlier turns are sent")
    func windowKeepsRoomToThink() async throws {
        var catalog = ModelCatalog()
        catalog.setContextWindow("sim", 8000)
        // The input may take 6 000 tokens (three quarters of the window) beside the default 1 024 of output; beside
        // high's 4 096 more, 4 000 (the output's room is capped at half the window). Ten turns of 500 words: 5 040.
        try await Harness.run(catalog: catalog) { h in
            let words = Array(repeating: "word", count: 500).joined(separator: " ")
            var messages: [[String: Any]] = []
            for index in 0..<50 { messages.append(["role": index % 2 == 0 ? "user" : "assistant", "content": "turn \(index) " + words]) }
            messages.append(["role": "user", "content": "Last"])
            func sentTurns(_ options: [String: Any]) async throws -> Int {
                let reply = try await h.post(
                    "/v1/chat/completions", token: h.alice, headers: ["X-Sluice-Scenario": "echo"],
                    json: ["model": "sim", "messages": messages].merging(options) { $1 })
                #expect(reply.status == 200, "\(reply.text.prefix(300))")
                return (try Self.message(reply)["content"] as? String ?? "").components(separatedBy: "\n").filter { $0.contains(": turn ") }.count
            }
            let plain = try await sentTurns([:])
            let thinking = try await sentTurns(["reasoning_effort": "high"])
            #expect(plain > thinking && thinking > 0, "\(plain) → \(thinking)")
        }
    }

    @Test("Anthropic's wire: thinking asked in its words reaches an Anthropic upstream, and its blocks come back")
    func anthropicWire() async throws {
        try await Harness.run(anthropic: true) { h in
            let reply = try await h.post(
                "/v1/messages", token: h.alice, asAPIKey: true, headers: ["X-Sluice-Scenario": "echo"],
                json: ["model": "sim", "max_tokens": 4000, "thinking": ["type": "enabled", "budget_tokens": 2048],
                       "messages": [["role": "user", "content": "Hi"]]])
            #expect(reply.status == 200, "\(reply.text)")
            let message = try #require(try JSONSerialization.jsonObject(with: Data(reply.text.utf8)) as? [String: Any])
            let blocks = try #require(message["content"] as? [[String: Any]])
            #expect(blocks.map { $0["type"] as? String } == ["thinking", "text"])
            #expect(blocks.first?["thinking"] as? String == "Let me think about: Hi")
            #expect(blocks.last?["text"] as? String == "user: Hi\nthinking: budget 2048 of max_tokens 4000\n")
        }
    }

    @Test("a function-calling loop with an Anthropic upstream goes without thinking when the last answer's signed thinking is not there, and thinks again after")
    func anthropicToolLoop() async throws {
        try await Harness.run(anthropic: true) { h in
            let tools: [[String: Any]] = [["type": "function", "function": ["name": "lookup", "parameters": ["type": "object"]]]]
            let first = try await h.post(
                "/v1/chat/completions", token: h.alice,
                json: ["model": "sim", "messages": [["role": "user", "content": "Find it"]], "tools": tools, "reasoning_effort": "low",
                       "user": "first"])
            #expect(first.status == 200, "\(first.text)")
            let calls = try #require(try Self.message(first)["tool_calls"] as? [[String: Any]])
            let id = try #require(calls.first?["id"] as? String)
            // The results, in a conversation of its own (another end user) and without the answer's `thinking_blocks`:
            // the simulator, as the API, refuses thinking here unless the last answer's signed thinking comes back
            // before its calls — Sluice asks for none.
            let history: [[String: Any]] = [
                ["role": "user", "content": "Find it"], ["role": "assistant", "content": NSNull(), "tool_calls": calls],
                ["role": "tool", "tool_call_id": id, "content": "42"],
            ]
            let second = try await h.post(
                "/v1/chat/completions", token: h.alice,
                json: ["model": "sim", "messages": history, "tools": tools, "reasoning_effort": "low", "user": "second"])
            #expect(second.status == 200, "\(second.text)")
            let answer = try Self.message(second)
            #expect((answer["content"] as? String)?.contains("42") == true && answer["reasoning_content"] == nil)
            let third = try await h.post(
                "/v1/chat/completions", token: h.alice, headers: ["X-Sluice-Scenario": "echo"],
                json: ["model": "sim", "messages": history + [["role": "assistant", "content": answer["content"] ?? ""], ["role": "user", "content": "Why?"]],
                       "reasoning_effort": "low"])
            #expect(third.status == 200, "\(third.text)")
            #expect((try Self.message(third)["reasoning_content"] as? String) == "Let me think about: Why?")
        }
    }

    @Test("the Responses API: reasoning.effort goes upstream and the response says it")
    func responses() async throws {
        try await Harness.run { h in
            let reply = try await h.post(
                "/v1/responses", token: h.alice, headers: ["X-Sluice-Scenario": "echo"],
                json: ["model": "sim", "input": "Hi", "reasoning": ["effort": "minimal", "summary": "auto"]])
            #expect(reply.status == 200, "\(reply.text)")
            let response = try #require(try JSONSerialization.jsonObject(with: Data(reply.text.utf8)) as? [String: Any])
            #expect(ResponsesGatewayTests.outputText(response) == "user: Hi\nreasoning effort: minimal\n")
            #expect((response["reasoning"] as? [String: Any])?["effort"] as? String == "minimal")
        }
    }
}
