import Foundation
import Hummingbird
import NIOCore
import SluiceCore

/// Thrown inside a response body to make Hummingbird drop the connection mid-stream.
struct SimulatedConnectionReset: Error {}

/// One simulated answer: which scenario, how many tokens, how fast; writes it in OpenAI's chunk format.
struct StreamPlan: Sendable {
    let scenario: Scenario
    let model: String
    let tokens: Int
    let delay: Duration
    let stall: Duration
    let promptTokens: Int
    /// The part of the prompt read from the prompt cache; `nil` without one (no `prompt_tokens_details`).
    var cachedPromptTokens: Int? = nil
    let includeUsage: Bool
    /// When set, each token waits for a release of this gate (see `Gates`).
    let gate: (Gates, String)?
    var finishReason = "stop"
    /// The answer's tokens when the scenario writes its own text (`leak`, `echo`) instead of `SimulatedText`.
    var script: [String]? = nil
    /// Function calls the answer makes instead of text (each call's arguments in 4-character pieces).
    var calls: [ToolCall]? = nil
    /// A text completion's (`/v1/completions`) number of choices, each written the same; `nil` for a chat completion.
    var textChoices: Int? = nil
    /// When set (`logprobs: true`), each token's chunk has its log probability and this many alternatives.
    var topLogprobs: Int? = nil
    /// A reasoning model's thinking, streamed as `reasoning_content` before the answer (the `reasoning` scenario).
    var thinking: [String] = []
    let id = "chatcmpl-sim-" + UUID().uuidString.prefix(8).lowercased()
    let created = Int(Date().timeIntervalSince1970)

    var midpoint: Int { max(1, tokenCount / 2) }
    var tokenCount: Int { calls.map { $0.reduce(0) { $0 + Self.pieces($1.arguments, size: 4).count } } ?? script?.count ?? tokens }

    func token(_ index: Int) -> String { script?[index] ?? SimulatedText.token(index) }

    /// `text` in pieces of `size` characters, as the tokens of a scripted answer.
    static func pieces(_ text: String, size: Int) -> [String] {
        var pieces: [String] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            pieces.append(String(rest.prefix(size)))
            rest = rest.dropFirst(size)
        }
        return pieces
    }

    func stream(to writer: inout any ResponseBodyWriter) async throws {
        if textChoices == nil { try await send(chunk(delta: "{\"role\":\"assistant\",\"content\":\"\"}", finish: nil), to: &writer) }
        if scenario == .stallBeforeFirstToken { try await writer.stall(for: stall) }
        // The first piece at once (a reasoning model starts thinking without delay), each next one a delay later.
        for (index, piece) in thinking.enumerated() {
            if delay > .zero, index > 0 { try await Task.sleep(for: delay) }
            try await send(chunk(delta: "{\"reasoning_content\":\(JSONText.quote(piece))}", finish: nil), to: &writer)
        }
        if let calls {
            for (index, call) in calls.enumerated() {
                try await send(chunk(delta: Self.toolCallDelta(index: index, head: call, arguments: ""), finish: nil), to: &writer)
                for piece in Self.pieces(call.arguments, size: 4) {
                    if delay > .zero { try await Task.sleep(for: delay) }
                    try await send(chunk(delta: Self.toolCallDelta(index: index, head: nil, arguments: piece), finish: nil), to: &writer)
                }
            }
        }
        for index in 0..<(calls == nil ? tokenCount : 0) {
            if index == midpoint {
                switch scenario {
                case .stallMidStream: try await writer.stall(for: stall)
                case .resetMidStream:
                    // Let the tokens written so far leave first, then drop the connection mid-body.
                    try await Task.sleep(for: .milliseconds(50))
                    throw SimulatedConnectionReset()
                case .errorMidStream:
                    try await send("{\"error\":{\"message\":\"The model crashed while generating.\",\"type\":\"server_error\"}}", to: &writer)
                    try await writer.finish(nil)
                    return
                case .malformedChunk:
                    try await send("{\"choices\":[{\"delta\":{\"content\":\"oops", to: &writer)
                    try await writer.finish(nil)
                    return
                default: break
                }
            }
            if delay > .zero { try await Task.sleep(for: delay) }
            if let (gates, key) = gate { await gates.pass(key) }
            if let textChoices {
                for choice in 0..<textChoices { try await send(textChunk(choice, token(index), finish: nil), to: &writer) }
            } else {
                try await send(
                    chunk(delta: "{\"content\":\(JSONText.quote(token(index)))}", finish: nil, logprobs: topLogprobs.map { [logprob(index, alternatives: $0)] }),
                    to: &writer)
            }
        }
        if let textChoices {
            for choice in 0..<textChoices {
                let last = scenario == .usageInLastChunk && choice == textChoices - 1
                try await send(textChunk(choice, "", finish: finishReason, usage: last ? usageJSON : nil), to: &writer)
            }
        } else {
            try await send(chunk(delta: "{}", finish: finishReason), to: &writer)
        }
        if includeUsage && scenario != .noUsage && !(textChoices != nil && scenario == .usageInLastChunk) {
            let object = textChoices == nil ? "chat.completion.chunk" : "text_completion"
            try await send(
                "{\"id\":\"\(id)\",\"object\":\"\(object)\",\"created\":\(created),\"model\":\(JSONText.quote(model)),\"choices\":[],\"usage\":\(usageJSON)}",
                to: &writer)
        }
        try await send("[DONE]", to: &writer)
        try await writer.finish(nil)
    }

    /// A `delta` with a piece of a function call, as OpenAI streams them: the first piece has the id and the name.
    private static func toolCallDelta(index: Int, head: ToolCall?, arguments: String) -> String {
        let start = head.map { ",\"id\":\(JSONText.quote($0.id)),\"type\":\"function\"" } ?? ""
        let name = head.map { "\"name\":\(JSONText.quote($0.name))," } ?? ""
        return "{\"tool_calls\":[{\"index\":\(index)\(start),\"function\":{\(name)\"arguments\":\(JSONText.quote(arguments))}}]}"
    }

    /// A text completion's chunk: one choice's next piece of text.
    private func textChunk(_ choice: Int, _ text: String, finish: String?, usage: String? = nil) -> String {
        "{\"id\":\"\(id)\",\"object\":\"text_completion\",\"created\":\(created),\"model\":\(JSONText.quote(model)),\"choices\":[{\"text\":\(JSONText.quote(text)),\"index\":\(choice),\"logprobs\":null,\"finish_reason\":\(finish.map { "\"\($0)\"" } ?? "null")}]\(usage.map { ",\"usage\":\($0)" } ?? "")}"
    }

    private func chunk(delta: String, finish: String?, logprobs: [String]? = nil) -> String {
        let entries = logprobs.map { ",\"logprobs\":{\"content\":[\($0.joined(separator: ","))],\"refusal\":null}" } ?? ""
        return "{\"id\":\"\(id)\",\"object\":\"chat.completion.chunk\",\"created\":\(created),\"model\":\(JSONText.quote(model)),\"choices\":[{\"index\":0,\"delta\":\(delta)\(entries),\"finish_reason\":\(finish.map { "\"\($0)\"" } ?? "null")}]}"
    }

    /// Token `index`'s log probability, as llama-server writes it (with the token's `id` too): `-(index % 4 + 1) / 8`,
    /// so a test can tell which token an entry belongs to; its alternatives are the token itself and `alt1`, `alt2`…,
    /// each less likely.
    func logprob(_ index: Int, alternatives: Int) -> String {
        let text = token(index)
        let value = -Double(index % 4 + 1) / 8
        let entry = { (token: String, logprob: Double) in
            "\"id\":\(index),\"token\":\(JSONText.quote(token)),\"logprob\":\(logprob),\"bytes\":[\(token.utf8.map(String.init).joined(separator: ","))]"
        }
        let top = (0..<alternatives).map { "{" + entry($0 == 0 ? text : "alt\($0)", value - Double($0)) + "}" }
        return "{" + entry(text, value) + ",\"top_logprobs\":[\(top.joined(separator: ","))]}"
    }

    private func send(_ data: String, to writer: inout any ResponseBodyWriter) async throws {
        guard scenario == .splitChunks else {
            try await writer.write(ByteBuffer(string: "data: \(data)\n\n"))
            return
        }
        let bytes = Array(": keep-alive\r\ndata: \(data)\r\n\r\n".utf8)
        var start = 0
        while start < bytes.count {
            let end = min(start + 3, bytes.count)
            try await writer.write(ByteBuffer(bytes: bytes[start..<end]))
            start = end
        }
    }

    /// The answer as an event stream, its outcome counted in `tally`: started, then completed or abandoned (the
    /// client — Sluice — closed the connection).
    func eventStream(tally: StreamTally) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                tally.record(.started)
                do {
                    try await stream(to: &writer)
                    tally.record(.completed)
                } catch let error as SimulatedConnectionReset {
                    throw error
                } catch {
                    // A write failed or the task was cancelled: the client (Sluice) closed the connection.
                    tally.record(.abandoned)
                    throw error
                }
            })
    }

    /// The non-streaming answer of a text completion.
    func textCompletionJSON() -> String {
        let text = JSONText.quote(script?.joined() ?? SimulatedText.answer(tokens: tokens))
        let choices = (0..<(textChoices ?? 1)).map {
            "{\"text\":\(text),\"index\":\($0),\"logprobs\":null,\"finish_reason\":\"\(finishReason)\"}"
        }
        return "{\"id\":\"\(id)\",\"object\":\"text_completion\",\"created\":\(created),\"model\":\(JSONText.quote(model)),\"choices\":[\(choices.joined(separator: ","))],\"usage\":\(usageJSON)}"
    }

    /// The non-streaming answer.
    func completionJSON() -> String {
        let text = calls == nil ? JSONText.quote(script?.joined() ?? SimulatedText.answer(tokens: tokens)) : "null"
        let toolCalls = calls.map { calls in
            ",\"tool_calls\":[" + calls.map {
                "{\"id\":\(JSONText.quote($0.id)),\"type\":\"function\",\"function\":{\"name\":\(JSONText.quote($0.name)),\"arguments\":\(JSONText.quote($0.arguments))}}"
            }.joined(separator: ",") + "]"
        } ?? ""
        let logprobs = topLogprobs.map { top in
            ",\"logprobs\":{\"content\":[" + (0..<(calls == nil ? tokenCount : 0)).map { logprob($0, alternatives: top) }.joined(separator: ",") + "],\"refusal\":null}"
        } ?? ""
        let reasoning = thinking.isEmpty ? "" : ",\"reasoning_content\":" + JSONText.quote(thinking.joined())
        return "{\"id\":\"\(id)\",\"object\":\"chat.completion\",\"created\":\(created),\"model\":\(JSONText.quote(model)),\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\(text)\(toolCalls)\(reasoning)}\(logprobs),\"finish_reason\":\"\(finishReason)\"}],\"usage\":\(usageJSON)}"
    }

    private var usageJSON: String {
        let details = cachedPromptTokens.map { ",\"prompt_tokens_details\":{\"cached_tokens\":\($0)}" } ?? ""
        // llama-server counts one answer's output however many it wrote.
        let output = tokenCount * (scenario == .usageInLastChunk ? 1 : textChoices ?? 1) + thinking.count
        let reasoning = thinking.isEmpty ? "" : ",\"completion_tokens_details\":{\"reasoning_tokens\":\(thinking.count)}"
        return "{\"prompt_tokens\":\(promptTokens),\"completion_tokens\":\(output),\"total_tokens\":\(promptTokens + output)\(details)\(reasoning)}"
    }
}
