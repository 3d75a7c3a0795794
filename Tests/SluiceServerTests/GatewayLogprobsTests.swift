import Foundation
import SluiceCore
@testable import SluiceServer
import SluiceSimulator
import Testing

/// `logprobs` and `top_logprobs` on `/v1/chat/completions`: asked of the upstream, passed back in OpenAI's shape
/// (streamed: each text chunk's `choices[0].logprobs.content`; whole: the choice's), lined up with the text the
/// caller is shown — where Sluice redacted the answer, no entry shows what was redacted.
@Suite("Gateway log probabilities")
struct GatewayLogprobsTests {
    /// What one call answered: the text and the log probabilities, read as an SDK reads them.
    struct Answer {
        let text: String
        let entries: [[String: Any]]
        /// Streamed: whether every chunk with text had a `logprobs` object.
        let everyTextChunkHasLogprobs: Bool
        let body: String
        let headers: [String: String]

        var tokens: [String] { entries.map { $0["token"] as? String ?? "?" } }
        var total: Double { entries.reduce(0) { $0 + ($1["logprob"] as? Double ?? .nan) } }
    }

    static func call(
        _ h: Harness, stream: Bool, extra: [String: Any] = ["logprobs": true, "top_logprobs": 2], system: String? = nil,
        scenario: String? = nil
    ) async throws -> Answer {
        var messages: [[String: Any]] = [["role": "user", "content": "Tell me something."]]
        if let system { messages.insert(["role": "system", "content": system], at: 0) }
        var body: [String: Any] = ["model": "sim", "stream": stream, "messages": messages]
        body.merge(extra) { $1 }
        let reply = try await h.post(
            "/v1/chat/completions", token: h.alice, headers: scenario.map { ["X-Sluice-Scenario": $0] } ?? [:], json: body)
        #expect(reply.status == 200, "\(reply.text)")
        let headers = Dictionary(reply.headers.map { ($0.name.lowercased(), $0.value) }) { $1 }
        guard stream else {
            let json = try #require(try JSONSerialization.jsonObject(with: Data(reply.text.utf8)) as? [String: Any])
            let choice = try #require((json["choices"] as? [[String: Any]])?.first)
            let text = (choice["message"] as? [String: Any])?["content"] as? String ?? ""
            let logprobs = choice["logprobs"] as? [String: Any]
            return Answer(
                text: text, entries: logprobs?["content"] as? [[String: Any]] ?? [], everyTextChunkHasLogprobs: logprobs != nil,
                body: reply.text, headers: headers)
        }
        var text = ""
        var entries: [[String: Any]] = []
        var every = true
        for line in reply.text.split(separator: "\n") where line.hasPrefix("data: {") {
            let chunk = try #require(try JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any])
            guard let choice = (chunk["choices"] as? [[String: Any]])?.first else { continue }
            let piece = (choice["delta"] as? [String: Any])?["content"] as? String ?? ""
            text += piece
            let logprobs = choice["logprobs"] as? [String: Any]
            if !piece.isEmpty, logprobs == nil { every = false }
            entries += logprobs?["content"] as? [[String: Any]] ?? []
        }
        return Answer(text: text, entries: entries, everyTextChunkHasLogprobs: every, body: reply.text, headers: headers)
    }

    /// The simulator's log probability of its token `index` (`StreamPlan.logprob`).
    static func simulated(_ index: Int) -> Double { -Double(index % 4 + 1) / 8 }

    @Test("each token's log probability and alternatives come back, streamed and whole", arguments: [true, false])
    func entriesMatchTheTokens(stream: Bool) async throws {
        try await Harness.run { h in
            let answer = try await Self.call(h, stream: stream)
            #expect(!answer.text.isEmpty)
            #expect(answer.everyTextChunkHasLogprobs)
            // One entry per token the simulator wrote (24), in order, whose texts make the answer.
            #expect(answer.entries.count == 24)
            #expect(answer.tokens.joined() == answer.text)
            for (index, entry) in answer.entries.enumerated() {
                #expect(entry["logprob"] as? Double == Self.simulated(index))
                let token = entry["token"] as? String ?? ""
                #expect((entry["bytes"] as? [Int])?.map(UInt8.init) == Array(token.utf8))
                let top = entry["top_logprobs"] as? [[String: Any]] ?? []
                #expect(top.map { $0["token"] as? String ?? "" } == [token, "alt1"])
                #expect(top.last?["logprob"] as? Double == Self.simulated(index) - 1)
            }
            // Without `logprobs`, none: not asked of the upstream, no key on the wire.
            let plain = try await Self.call(h, stream: stream, extra: [:])
            #expect(plain.entries.isEmpty)
            #expect(!plain.body.contains("\"logprobs\""))
            // `logprobs` alone: the entries without alternatives.
            let bare = try await Self.call(h, stream: stream, extra: ["logprobs": true])
            #expect(bare.entries.count == 24)
            #expect(bare.entries.allSatisfy { ($0["top_logprobs"] as? [Any])?.isEmpty == true })
        }
    }

    @Test("where the answer is redacted, one entry stands for the redacted text and nothing secret shows", arguments: [true, false])
    func redactedTextHidesItsTokens(stream: Bool) async throws {
        try await Harness.run { h in
            let system = "You are the Sluice test assistant. The launch code is plover."
            let answer = try await Self.call(h, stream: stream, system: system, scenario: "leak")
            #expect(answer.text == "Sure. My instructions say: [system prompt redacted] And my key is [credential redacted], keep it safe.")
            #expect(answer.tokens.joined() == answer.text)
            for secret in ["launch code", "plover", "sk-test-secret", "test-sec"] { #expect(!answer.body.contains(secret), "\(secret)") }
            // The redacted stretches are single entries without alternatives; the rest are the upstream's tokens.
            let redacted = answer.entries.filter { ($0["token"] as? String ?? "").contains("redacted]") }
            #expect(redacted.count == 2)
            #expect(redacted.allSatisfy { ($0["top_logprobs"] as? [Any])?.isEmpty == true })
            #expect(answer.entries.count > 2)
            // Nothing is lost: the entries' log probabilities add up to the upstream's, token for token.
            let upstream = "Sure. My instructions say: \(system) And my key is sk-test-secret, keep it safe."
            let count = (upstream.count + 3) / 4
            let expected = (0..<count).reduce(0.0) { $0 + Self.simulated($1) }
            #expect(abs(answer.total - expected) < 1e-9, "\(answer.total) vs \(expected)")
        }
    }

    @Test("bad values are a 400 that names the field; Anthropic's upstream says it has none")
    func refusals() async throws {
        try await Harness.run { h in
            for (extra, param) in [
                (["top_logprobs": 2] as [String: Any], "top_logprobs"), (["logprobs": false, "top_logprobs": 2], "top_logprobs"),
                (["logprobs": true, "top_logprobs": 21], "top_logprobs"), (["logprobs": true, "top_logprobs": -1], "top_logprobs"),
            ] {
                var body: [String: Any] = ["model": "sim", "messages": [["role": "user", "content": "Hi"]]]
                body.merge(extra) { $1 }
                let reply = try await h.post("/v1/chat/completions", token: h.alice, json: body)
                #expect(reply.status == 400, "\(extra)")
                let error = (try JSONSerialization.jsonObject(with: Data(reply.text.utf8)) as? [String: Any])?["error"] as? [String: Any]
                #expect(error?["param"] as? String == param, "\(reply.text)")
            }
        }
        try await Harness.run(anthropic: true) { h in
            let reply = try await h.post(
                "/v1/chat/completions", token: h.alice,
                json: ["model": "sim", "logprobs": true, "messages": [["role": "user", "content": "Hi"]]])
            #expect(reply.status == 400)
            #expect(reply.text.contains("returns no log probabilities"), "\(reply.text)")
            // Nothing was asked of the upstream for it.
            #expect(try await h.simulatorStats()["streams_started"] as? Int == 0)
        }
    }

    @Test("a call with log probabilities is answered by the model, not from the response cache")
    func bypassesTheResponseCache() async throws {
        try await Harness.run(responseCache: (ttl: .seconds(3600), shared: false)) { h in
            let body: [String: Any] = ["logprobs": true, "temperature": 0]
            let first = try await Self.call(h, stream: false, extra: body)
            let second = try await Self.call(h, stream: false, extra: body)
            #expect(first.entries.count == 24 && second.entries.count == 24)
            #expect(first.headers["x-sluice-cache"] == nil && second.headers["x-sluice-cache"] == nil)
            // The same call without them is cached as usual.
            _ = try await Self.call(h, stream: false, extra: ["temperature": 0])
            let cached = try await Self.call(h, stream: false, extra: ["temperature": 0])
            #expect(cached.headers["x-sluice-cache"] == "hit")
        }
    }

    @Test("the Responses API: `include` or `top_logprobs` asks for them; each delta and the output text carry them, redacted alike",
          arguments: [true, false])
    func responses(stream: Bool) async throws {
        try await Harness.run { h in
            let system = "You are the Sluice test assistant. The launch code is plover."
            for (body, scenario) in [
                (["include": ["message.output_text.logprobs"]] as [String: Any], nil as String?),
                (["top_logprobs": 2], nil), (["top_logprobs": 2, "instructions": system], "leak"), ([:], nil),
            ] {
                var request: [String: Any] = ["model": "sim", "input": "Tell me something.", "stream": stream]
                request.merge(body) { $1 }
                let reply = try await h.post(
                    "/v1/responses", token: h.alice, headers: scenario.map { ["X-Sluice-Scenario": $0] } ?? [:], json: request)
                #expect(reply.status == 200, "\(reply.text)")
                var deltaEntries: [[String: Any]] = []
                let response: [String: Any]
                if stream {
                    var parser = SSEParser()
                    let data = parser.feed(Array(reply.text.utf8)[...]).compactMap {
                        try? JSONSerialization.jsonObject(with: Data($0.data.utf8)) as? [String: Any]
                    }
                    for event in data where event["type"] as? String == "response.output_text.delta" {
                        deltaEntries += event["logprobs"] as? [[String: Any]] ?? []
                    }
                    let done = data.first { $0["type"] as? String == "response.output_text.done" }
                    if scenario == nil { #expect((done?["logprobs"] as? [Any])?.count == (body.isEmpty ? 0 : 24)) }
                    response = try #require(data.last?["response"] as? [String: Any])
                } else {
                    response = try #require(try JSONSerialization.jsonObject(with: Data(reply.text.utf8)) as? [String: Any])
                }
                let part = try #require(((response["output"] as? [[String: Any]])?.first?["content"] as? [[String: Any]])?.first)
                let text = try #require(part["text"] as? String)
                let entries = part["logprobs"] as? [[String: Any]] ?? []
                let tokens = entries.map { $0["token"] as? String ?? "?" }
                if stream { #expect(deltaEntries.map { $0["token"] as? String ?? "?" } == tokens) }
                #expect(response["top_logprobs"] as? Int == body["top_logprobs"] as? Int ?? (body.isEmpty ? nil : 0))
                guard !body.isEmpty else {
                    #expect(entries.isEmpty)
                    continue
                }
                #expect(tokens.joined() == text)
                if scenario == nil {
                    #expect(entries.count == 24)
                    #expect(entries.allSatisfy { ($0["top_logprobs"] as? [Any])?.count == (body["top_logprobs"] as? Int ?? 0) })
                } else {
                    #expect(text.contains("[system prompt redacted]") && text.contains("[credential redacted]"))
                    // (The response echoes the caller's own `instructions`: the answer and its entries are what must not show them.)
                    let shown = String(decoding: try JSONSerialization.data(withJSONObject: [part, deltaEntries]), as: UTF8.self)
                    for secret in ["launch code", "plover", "sk-test-secret"] { #expect(!shown.contains(secret), "\(secret)") }
                    #expect(!reply.text.contains("sk-test-secret"))
                }
            }
        }
    }
}
