import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import SluiceCore

/// Streams Chat Completions from any OpenAI-compatible upstream (OpenAI, llama-server, vLLM, Ollama, the
/// simulator) over AsyncHTTPClient, parsing its SSE incrementally.
public struct OpenAICompatibleProvider: ChatProvider {
    /// Where the upstream is and what each request carries; requests go to `<base>/chat/completions`.
    public let endpoint: UpstreamEndpoint
    /// Base URL such as `http://127.0.0.1:8081/v1` (without the query a base URL may have).
    public var baseURL: String { endpoint.base }
    let httpClient: HTTPClient
    let totalTimeout: TimeAmount
    /// vLLM's (and transformers') `continue_final_message`: sent, with `add_generation_prompt: false`, on a request
    /// that ends with an assistant message (a prefill), which such a server otherwise answers with a new message.
    let continueFinalMessage: Bool
    /// LiteLLM's `thinking_blocks`, sent back on the answers of a function-calling loop when the request thinks: for
    /// an upstream that is LiteLLM in front of Anthropic, whose API wants that signed thinking back (OpenAI's own API
    /// refuses fields it does not know, so this is the operator's to switch on).
    let sendsThinkingBlocks: Bool
    let logger: Logger

    public init(
        baseURL: String, apiKey: String?, httpClient: HTTPClient, totalTimeout: TimeAmount = .minutes(10),
        keyHeader: String? = nil, headers: [UpstreamEndpoint.Header] = [], continueFinalMessage: Bool = false,
        sendsThinkingBlocks: Bool = false, logger: Logger = Logger(label: "sluice.provider")
    ) {
        endpoint = UpstreamEndpoint(baseURL: baseURL, apiKey: apiKey, keyHeader: keyHeader, headers: headers)
        self.httpClient = httpClient
        self.totalTimeout = totalTimeout
        self.continueFinalMessage = continueFinalMessage
        self.sendsThinkingBlocks = sendsThinkingBlocks
        self.logger = logger
    }

    public func streamChat(_ request: ChatRequest) -> ProviderStream {
        // A request that ends with an assistant message asks the model to continue it (a prefill).
        let prefill = request.messages.last.flatMap { $0.role == .assistant && $0.toolCalls.isEmpty ? $0.content : nil }
        let continuing = continueFinalMessage && prefill != nil
        return .serverSentEvents(decoder: ChunkDecoder(prefill: prefill)) { try await send(request, continuingFinalMessage: continuing) }
    }

    public func checkReady() async throws {
        var request = HTTPClientRequest(url: endpoint.modelsURL)
        endpoint.authorize(&request)
        let response = try await httpClient.execute(request, timeout: .seconds(5))
        _ = try await response.body.collect(upTo: 1 << 20)
        guard (200..<300).contains(response.status.code) else {
            throw ProviderError.http(status: Int(response.status.code), message: "upstream not ready", retryAfter: nil)
        }
    }

    /// Sends the streaming request (the reader turns a status other than 200 into `ProviderError.http`).
    private func send(_ chat: ChatRequest, continuingFinalMessage: Bool) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: endpoint.url("chat/completions"))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "text/event-stream")
        endpoint.authorize(&request)
        for (name, value) in chat.extraHeaders { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: CompletionRequestBody.json(
            chat, continuingFinalMessage: continuingFinalMessage, thinkingBlocks: sendsThinkingBlocks)))

        return try await httpClient.execute(request, timeout: totalTimeout, logger: logger)
    }
}

/// The JSON body of a streamed chat completion request, asking for the usage chunk. Written directly: the whole
/// conversation goes upstream on every turn, and `JSONEncoder` cost more than the rest of the request.
enum CompletionRequestBody {
    /// A message with images as a list of parts: its text, then each image as an `image_url` part.
    static func appendParts(of message: ChatMessage, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        if !message.content.isEmpty {
            out += Array(#"{"type":"text","text":"#.utf8)
            JSONText.appendQuoted(message.content, to: &out)
            out += Array("},".utf8)
        }
        for (index, image) in message.images.enumerated() {
            out += Array((index == 0 ? #"{"type":"image_url","image_url":{"url":"# : #",{"type":"image_url","image_url":{"url":"#).utf8)
            JSONText.appendQuoted(image.url, to: &out)
            if let detail = image.detail { out += Array(#","detail":"\#(detail.rawValue)""#.utf8) }
            out += Array("}}".utf8)
        }
        out.append(UInt8(ascii: "]"))
    }

    /// The images of the function results just written, as a user's message after them; empties the list.
    static func appendResultImages(_ images: inout [ImageInput], to out: inout [UInt8]) {
        out += Array(#",{"role":"user","content":"#.utf8)
        appendParts(of: ChatMessage(role: .user, content: resultImagesText, images: images), to: &out)
        out.append(UInt8(ascii: "}"))
        images = []
    }

    /// What introduces the images of function results to a model that reads them as the user's.
    static let resultImagesText = "The images the functions returned:"

    /// `thinkingBlocks`: the signed thinking of the loop's answers goes back as LiteLLM's `thinking_blocks` when the
    /// request thinks (the answers after the user's last words, as Anthropic wants them).
    static func json(_ request: ChatRequest, continuingFinalMessage: Bool = false, thinkingBlocks: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(request.messages.reduce(160) { $0 + $1.content.utf8.count + 32 })
        out += Array(#"{"model":"#.utf8)
        JSONText.appendQuoted(request.model, to: &out)
        out += Array(#","messages":["#.utf8)
        // Images function results returned: a `tool` message takes text only, so they follow the results as a user's
        // message (the results of one answer's calls must come right after it, together).
        var resultImages: [ImageInput] = []
        let loopStart = thinkingBlocks && request.sampling.reasoning != nil ? request.messages.loopStart : request.messages.count
        for (index, message) in request.messages.enumerated() {
            if message.role != .tool, !resultImages.isEmpty { appendResultImages(&resultImages, to: &out) }
            out += Array((index == 0 ? #"{"role":""# : #",{"role":""#).utf8)
            out += Array(message.role.rawValue.utf8)
            out += Array(#"","content":"#.utf8)
            // An assistant message with calls and no text has `null` content, as OpenAI writes it.
            if message.content.isEmpty, !message.toolCalls.isEmpty {
                out += Array("null".utf8)
            } else if !message.images.isEmpty, message.role != .tool {
                appendParts(of: message, to: &out)
            } else {
                JSONText.appendQuoted(message.content, to: &out)
            }
            if !message.toolCalls.isEmpty {
                out += Array(#","tool_calls":["#.utf8)
                for (callIndex, call) in message.toolCalls.enumerated() {
                    out += Array((callIndex == 0 ? #"{"id":"# : #",{"id":"#).utf8)
                    JSONText.appendQuoted(call.id, to: &out)
                    out += Array(#","type":"function","function":{"name":"#.utf8)
                    JSONText.appendQuoted(call.name, to: &out)
                    out += Array(#","arguments":"#.utf8)
                    JSONText.appendQuoted(call.arguments, to: &out)
                    out += Array("}}".utf8)
                }
                out.append(UInt8(ascii: "]"))
            }
            if let id = message.toolCallID {
                out += Array(#","tool_call_id":"#.utf8)
                JSONText.appendQuoted(id, to: &out)
            }
            if index >= loopStart, message.role == .assistant, !message.thinking.isEmpty {
                out += Array(#","thinking_blocks":["#.utf8) + Array(message.thinking.map(\.json).joined(separator: ",").utf8)
                out.append(UInt8(ascii: "]"))
            }
            out.append(UInt8(ascii: "}"))
            if message.role == .tool { resultImages += message.images }
        }
        if !resultImages.isEmpty { appendResultImages(&resultImages, to: &out) }
        out += Array(#"],"stream":true,"stream_options":{"include_usage":true}"#.utf8)
        if let temperature = request.temperature, temperature.isFinite { out += Array(#","temperature":\#(temperature)"#.utf8) }
        if let maxTokens = request.maxTokens { out += Array(#","max_tokens":\#(maxTokens)"#.utf8) }
        let sampling = request.sampling
        if let topP = sampling.topP, topP.isFinite { out += Array(#","top_p":\#(topP)"#.utf8) }
        if !sampling.stop.isEmpty {
            out += Array(#","stop":["#.utf8)
            for (index, text) in sampling.stop.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONText.appendQuoted(text, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
        if let seed = sampling.seed { out += Array(#","seed":\#(seed)"#.utf8) }
        if let penalty = sampling.presencePenalty, penalty.isFinite { out += Array(#","presence_penalty":\#(penalty)"#.utf8) }
        if let penalty = sampling.frequencyPenalty, penalty.isFinite { out += Array(#","frequency_penalty":\#(penalty)"#.utf8) }
        if let format = sampling.responseFormat {
            out += Array(#","response_format":"#.utf8)
            append(format, to: &out)
        }
        if let endUser = sampling.endUser {
            out += Array(#","user":"#.utf8)
            JSONText.appendQuoted(endUser, to: &out)
        }
        if let alternatives = sampling.logprobs {
            out += Array(#","logprobs":true"#.utf8)
            if alternatives > 0 { out += Array(#","top_logprobs":\#(alternatives)"#.utf8) }
        }
        if let effort = sampling.reasoning?.openAIEffort { out += Array(#","reasoning_effort":"\#(effort)""#.utf8) }
        if let tools = request.tools { append(tools, to: &out) }
        if continuingFinalMessage { out += Array(#","continue_final_message":true,"add_generation_prompt":false"#.utf8) }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// `tools`, `tool_choice` and `parallel_tool_calls` as OpenAI defines them.
    static func append(_ tools: ToolOptions, to out: inout [UInt8]) {
        out += Array(#","tools":["#.utf8)
        for (index, function) in tools.functions.enumerated() {
            out += Array((index == 0 ? #"{"type":"function","function":{"name":"# : #",{"type":"function","function":{"name":"#).utf8)
            JSONText.appendQuoted(function.name, to: &out)
            if let description = function.description {
                out += Array(#","description":"#.utf8)
                JSONText.appendQuoted(description, to: &out)
            }
            if let parameters = function.parameters {
                out += Array(#","parameters":"#.utf8)
                parameters.append(to: &out)
            }
            if let strict = function.strict { out += Array(#","strict":\#(strict)"#.utf8) }
            out += Array("}}".utf8)
        }
        out.append(UInt8(ascii: "]"))
        switch tools.choice {
        case nil: break
        case .auto?: out += Array(#","tool_choice":"auto""#.utf8)
        case .none?: out += Array(#","tool_choice":"none""#.utf8)
        case .required?: out += Array(#","tool_choice":"required""#.utf8)
        case .function(let name)?:
            out += Array(#","tool_choice":{"type":"function","function":{"name":"#.utf8)
            JSONText.appendQuoted(name, to: &out)
            out += Array("}}".utf8)
        }
        if let parallel = tools.parallelCalls { out += Array(#","parallel_tool_calls":\#(parallel)"#.utf8) }
    }

    /// `response_format` as OpenAI defines it (llama-server, vLLM and Ollama read the same shape).
    static func append(_ format: ResponseFormat, to out: inout [UInt8]) {
        switch format {
        case .jsonObject:
            out += Array(#"{"type":"json_object"}"#.utf8)
        case .jsonSchema(let schema):
            out += Array(#"{"type":"json_schema","json_schema":{"name":"#.utf8)
            JSONText.appendQuoted(schema.name, to: &out)
            if let description = schema.description {
                out += Array(#","description":"#.utf8)
                JSONText.appendQuoted(description, to: &out)
            }
            if let body = schema.schema {
                out += Array(#","schema":"#.utf8)
                body.append(to: &out)
            }
            if let strict = schema.strict { out += Array(#","strict":\#(strict)"#.utf8) }
            out += Array("}}".utf8)
        }
    }
}
