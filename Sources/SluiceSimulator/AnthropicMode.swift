import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SluiceCore

/// The simulator speaking Anthropic's Messages API (`POST /v1/messages`): the same scenarios as the OpenAI
/// side, with Anthropic's error envelope and stream events (`message_start`, `content_block_delta`,
/// `message_delta` with usage, `message_stop`, `error` with `overloaded_error` mid-stream). A request that forces
/// a tool (`tool_choice` of type `tool`) is answered by calling it: the answer's words as `{"text": …}`, in
/// `input_json_delta` pieces, ending with `tool_use`. A request with `thinking` enabled is checked by the API's rules
/// for it (`ThinkingCheck`) and answered with a thinking block first.
enum AnthropicMode {
    struct MessagesRequest: Decodable {
        struct Message: Decodable {
            let role: String
            /// The text, joined from text blocks when the content is a list.
            let content: String
            /// `tool_result` blocks: the call's id and the result's text.
            let results: [(id: String, text: String)]
            /// A block carries `cache_control`: the prompt through this message may be cached.
            let marked: Bool
            /// `image` blocks, described (`SeenImages`).
            let images: [String]
            /// The first block's type (`text` for a string).
            let firstBlock: String?
            /// Whether the message calls a function (`tool_use` blocks).
            let usesTools: Bool
            /// `thinking` and `redacted_thinking` blocks sent back, with their position, for `ThinkingCheck`.
            let thinkingBlocks: [(index: Int, block: Block)]

            enum CodingKeys: String, CodingKey { case role, content }
            struct Block: Decodable {
                let type: String
                let text: String?
                let toolUseId: String?
                /// A `tool_result`'s content: its text, with its images described after it.
                let content: ResultContent?
                let cacheControl: CacheControl?
                let source: Source?
                let thinking: String?
                let signature: String?
                let data: String?
                struct Source: Decodable {
                    let type: String
                    let mediaType: String?
                    let data: String?
                    let url: String?
                }

                /// An image block, described (`SeenImages`); `nil` for another block.
                var seenImage: String? {
                    guard type == "image", let source else { return nil }
                    return SeenImages.describe(
                        mediaType: source.mediaType, base64: source.type == "base64" ? source.data?[...] : nil, url: source.url,
                        detail: nil)
                }
            }

            /// A string, or text and image blocks (a screenshot tool's result).
            struct ResultContent: Decodable {
                let text: String
                init(from decoder: any Decoder) throws {
                    let container = try decoder.singleValueContainer()
                    if let text = try? container.decode(String.self) {
                        self.text = text
                    } else {
                        let blocks = try container.decode([Block].self)
                        text = (blocks.compactMap { $0.type == "text" ? $0.text : nil } + blocks.compactMap(\.seenImage))
                            .joined(separator: " ")
                    }
                }
            }

            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                role = try container.decode(String.self, forKey: .role)
                if let text = try? container.decode(String.self, forKey: .content) {
                    (content, results, marked, images, firstBlock, usesTools, thinkingBlocks) = (text, [], false, [], "text", false, [])
                } else {
                    let blocks = try container.decode([Block].self, forKey: .content)
                    content = blocks.compactMap { $0.type == "text" ? $0.text : nil }.joined(separator: "\n")
                    results = blocks.compactMap { $0.type == "tool_result" ? ($0.toolUseId ?? "?", $0.content?.text ?? "") : nil }
                    marked = blocks.contains { $0.cacheControl != nil }
                    firstBlock = blocks.first?.type
                    usesTools = blocks.contains { $0.type == "tool_use" }
                    images = blocks.compactMap(\.seenImage)
                    thinkingBlocks = blocks.enumerated().filter { ["thinking", "redacted_thinking"].contains($0.element.type) }
                        .map { ($0.offset, $0.element) }
                }
            }
        }
        struct Tool: Decodable { let name: String }
        struct CacheControl: Decodable { let type: String }
        /// `system` as a string, or as text blocks (which may be marked for caching).
        struct System: Decodable {
            let text: String
            let marked: Bool

            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let text = try? container.decode(String.self) {
                    (self.text, marked) = (text, false)
                } else {
                    let blocks = try container.decode([Message.Block].self)
                    text = blocks.compactMap(\.text).joined(separator: "\n")
                    marked = blocks.contains { $0.cacheControl != nil }
                }
            }
        }
        let model: String?
        let system: System?
        let messages: [Message]
        let maxTokens: Int?
        let stream: Bool?
        let tools: [Tool]?
        let toolChoice: ToolChoice?
        /// `{"user_id": …}`: the end user, shown by the `echo` scenario.
        let metadata: [String: String]?
        let thinking: Thinking?
        let temperature: Double?
        let topP: Double?

        struct Thinking: Decodable {
            let type: String
            let budgetTokens: Int?
        }
        var thinks: Bool { thinking?.type == "enabled" }

        struct ToolChoice: Decodable {
            let type: String
            let name: String?
        }
    }

    static func messages(
        _ request: Request, settings: SimulatorSettings, counter: AttemptCounter, gates: Gates,
        promptCache: PromptCacheMemory? = nil
    ) async throws -> Response {
        let buffer = try await request.body.collect(upTo: 48 << 20)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        guard let body = try? decoder.decode(MessagesRequest.self, from: Data(buffer.readableBytesView)),
            request.headers[HTTPField.Name("anthropic-version")!] != nil
        else {
            return error(.badRequest, "invalid_request_error", "The body is not a Messages request, or anthropic-version is missing.")
        }
        let header = { (name: String) in request.headers[HTTPField.Name(name)!] }
        guard let scenario = await Scenario.resolve(
            header: header("X-Sluice-Scenario"), model: body.model, messages: body.messages.map { ($0.role, $0.content) },
            counter: counter)
        else {
            return error(.badRequest, "invalid_request_error", "Unknown simulator scenario.")
        }
        switch scenario {
        case .rateLimited, .rateLimitedUntilDate, .rateLimitedBare, .rateLimitedLong:
            var response = error(.tooManyRequests, "rate_limit_error", "Number of request tokens has exceeded your rate limit.")
            if scenario != .rateLimitedBare { response.headers[.retryAfter] = scenario == .rateLimitedLong ? "120" : "1" }
            return response
        case .overloaded: return error(.init(code: 529, reasonPhrase: "Overloaded"), "overloaded_error", "Overloaded")
        case .unavailable: return error(.serviceUnavailable, "api_error", "Service unavailable.")
        case .badGateway, .gatewayTimeout, .serverError: return error(.internalServerError, "api_error", "Internal server error.")
        case .unauthorized: return error(.unauthorized, "authentication_error", "invalid x-api-key")
        case .forbidden: return error(.forbidden, "permission_error", "Your API key does not have permission to use the specified resource.")
        case .badRequest: return error(.badRequest, "invalid_request_error", "prompt is too long: 210000 tokens > 200000 maximum")
        default: break
        }
        if let refusal = ThinkingCheck.refusal(of: body) {
            return error(.badRequest, "invalid_request_error", refusal)
        }
        // A prefill (a final assistant turn) is continued, not repeated; the API refuses one that ends with a space.
        if let last = body.messages.last, last.role == "assistant", last.content.last?.isWhitespace == true {
            return error(.badRequest, "invalid_request_error", "messages: final assistant content cannot end with trailing whitespace")
        }
        var text: [String]
        // A model that uses functions: results are answered with what they said; otherwise an offered function is
        // called (unless `tool_choice` is `none`) with the user's words as `{"query": …}`.
        let results = body.messages.last?.results ?? []
        let offered = body.toolChoice?.type == "none" ? nil : body.tools?.first?.name
        let calledFunction = scenario == .ok && results.isEmpty && body.toolChoice?.type != "tool" ? offered : nil
        if scenario == .ok, !results.isEmpty {
            text = StreamPlan.pieces(
                "The functions returned: " + results.map { "\($0.id) said \($0.text)" }.joined(separator: "; ") + ".", size: 4)
        } else if calledFunction != nil {
            text = StreamPlan.pieces("{\"query\":\(JSONText.quote(body.messages.last?.content ?? ""))}", size: 4)
        } else if scenario == .echo {
            text = (body.system.map { ["system: \($0.text)\n"] } ?? [])
                + body.messages.map {
                    "\($0.role): \($0.content)\n" + $0.images.map { $0 + "\n" }.joined()
                        + ($0.thinkingBlocks.isEmpty ? "" : "(with \($0.thinkingBlocks.count) thinking blocks)\n")
                }
                + (body.metadata?["user_id"].map { ["end user: \($0)\n"] } ?? [])
                + (body.thinks ? ["thinking: budget \(body.thinking?.budgetTokens ?? 0) of max_tokens \(body.maxTokens ?? 0)\n"] : [])
                + Scenario.echoedHeaders(header)
        } else {
            let count = min(header("X-Sluice-Tokens").flatMap(Int.init) ?? settings.tokens, body.maxTokens ?? .max)
            text = (0..<count).map(SimulatedText.token)
        }
        let forced = body.toolChoice.flatMap { $0.type == "tool" ? $0.name : nil }
        let tool = forced ?? calledFunction
        let stop = calledFunction != nil ? "tool_use" : !results.isEmpty ? "end_turn"
            : text.count < (header("X-Sluice-Tokens").flatMap(Int.init) ?? settings.tokens) && scenario != .echo
            ? "max_tokens" : tool == nil ? "end_turn" : "tool_use"
        if forced != nil {
            // The tool's input, one JSON object: its pieces are what the words were, escaped inside one string.
            text = text.map { String(JSONText.quote($0).dropFirst().dropLast()) }
            text = [#"{"text": ""#] + text + [#""}"#]
        }
        let prompt = (body.system.map { [("system", $0.text)] } ?? []) + body.messages.map { ($0.role, $0.content) }
        let texts = prompt.map(\.1)
        // Anthropic caches the prompt up to each block marked with `cache_control`: it reads the longest marked
        // prefix it holds and writes the rest up to the last mark. Both are counted apart from `input_tokens`.
        let marks = ((body.system?.marked ?? false) ? [1] : []) + body.messages.indices.filter { body.messages[$0].marked }
            .map { $0 + 1 + (body.system == nil ? 0 : 1) }
        var (read, written) = (0, 0)
        if let promptCache {
            let lastMark = marks.last ?? 0
            read = SimulatedText.cachedTokens(promptCache.lookUp(prompt, readableUpTo: lastMark, remembering: marks), of: texts)
            written = SimulatedText.cachedTokens(lastMark, of: texts) - read
        }
        let inputTokens = SimulatedText.promptTokens(texts) - read - written
            + body.messages.reduce(0) { $0 + $1.images.count * SeenImages.tokensPerImage }
        let cacheUsage = promptCache == nil ? "" : ",\"cache_read_input_tokens\":\(read),\"cache_creation_input_tokens\":\(written)"
        let model = body.model ?? "sim"
        let delay = header("X-Sluice-Delay-Ms").flatMap(Int.init).map { Duration.milliseconds($0) } ?? settings.delay
        let stall = header("X-Sluice-Stall-Ms").flatMap(Int.init).map { Duration.milliseconds($0) } ?? settings.stall
        let finalScenario = scenario
        let tokens = text
        let gate = header("X-Sluice-Gate")
        let question = body.messages.last?.content ?? ""
        // Anthropic's test string asks for an encrypted (redacted) thinking block instead.
        let redacted = body.thinks && question.contains(ThinkingCheck.redactedTrigger)
        let thinkingText = "Let me think about: \(question)"
        let thought = body.thinks && !redacted ? StreamPlan.pieces(thinkingText, size: 4) : []
        let block = body.thinks ? 1 : 0
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                func send(_ name: String, _ data: String) async throws {
                    try await writer.write(ByteBuffer(string: "event: \(name)\ndata: \(data)\n\n"))
                }
                try await send("message_start", """
                    {"type":"message_start","message":{"id":"msg_sim","type":"message","role":"assistant","content":[],"model":\(JSONText.quote(model)),"stop_reason":null,"usage":{"input_tokens":\(inputTokens)\(cacheUsage),"output_tokens":1}}}
                    """)
                if !thought.isEmpty {
                    try await send("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}"#)
                    for piece in thought {
                        if delay > .zero { try await Task.sleep(for: delay) }
                        try await send("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":\#(JSONText.quote(piece))}}"#)
                    }
                    try await send("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":\#(JSONText.quote(ThinkingCheck.signature(of: thinkingText)))}}"#)
                    try await send("content_block_stop", #"{"type":"content_block_stop","index":0}"#)
                } else if redacted {
                    try await send("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"redacted_thinking","data":\#(JSONText.quote(ThinkingCheck.redactedData))}}"#)
                    try await send("content_block_stop", #"{"type":"content_block_stop","index":0}"#)
                }
                if let tool {
                    try await send("content_block_start", """
                        {"type":"content_block_start","index":\(block),"content_block":{"type":"tool_use","id":"toolu_sim_\(UUID().uuidString.prefix(8).lowercased())","name":\(JSONText.quote(tool)),"input":{}}}
                        """)
                } else {
                    try await send("content_block_start", #"{"type":"content_block_start","index":\#(block),"content_block":{"type":"text","text":""}}"#)
                }
                try await send("ping", #"{"type":"ping"}"#)
                if finalScenario == .stallBeforeFirstToken { try await Task.sleep(for: stall) }
                for (index, token) in tokens.enumerated() {
                    if index == max(1, tokens.count / 2) {
                        switch finalScenario {
                        case .stallMidStream: try await writer.stall(for: stall)
                        case .resetMidStream:
                            try await Task.sleep(for: .milliseconds(50))
                            throw SimulatedConnectionReset()
                        case .errorMidStream:
                            try await send("error", #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#)
                            try await writer.finish(nil)
                            return
                        default: break
                        }
                    }
                    if delay > .zero { try await Task.sleep(for: delay) }
                    if let gate { await gates.pass(gate) }
                    let delta = tool == nil
                        ? #"{"type":"text_delta","text":\#(JSONText.quote(token))}"#
                        : #"{"type":"input_json_delta","partial_json":\#(JSONText.quote(token))}"#
                    try await send("content_block_delta", #"{"type":"content_block_delta","index":\#(block),"delta":\#(delta)}"#)
                }
                try await send("content_block_stop", #"{"type":"content_block_stop","index":\#(block)}"#)
                try await send("message_delta", """
                    {"type":"message_delta","delta":{"stop_reason":"\(stop)","stop_sequence":null},"usage":{"output_tokens":\(tokens.count + thought.count)}}
                    """)
                try await send("message_stop", #"{"type":"message_stop"}"#)
                try await writer.finish(nil)
            })
    }

    static func error(_ status: HTTPResponse.Status, _ type: String, _ message: String) -> Response {
        Response.json(status, "{\"type\":\"error\",\"error\":{\"type\":\(JSONText.quote(type)),\"message\":\(JSONText.quote(message))}}")
    }
}
