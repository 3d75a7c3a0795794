import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import SluiceCore

/// Streams from Anthropic's Messages API (`POST <base>/messages`, `x-api-key`, `anthropic-version`).
/// System messages (the system prompt and Sluice's running summary) go into the top-level `system`; roles are
/// made to alternate as the API requires.
public struct AnthropicProvider: ChatProvider {
    /// Base URL such as `https://api.anthropic.com/v1`.
    public let baseURL: String
    private let apiKey: String?
    private let httpClient: HTTPClient
    private let totalTimeout: TimeAmount
    private let logger: Logger
    /// `max_tokens` is required by the API; this is sent when Sluice has no limit of its own.
    private let defaultMaxTokens: Int

    public static let apiVersion = "2023-06-01"

    public init(
        baseURL: String, apiKey: String?, httpClient: HTTPClient, totalTimeout: TimeAmount = .minutes(10),
        defaultMaxTokens: Int = 4096, logger: Logger = Logger(label: "sluice.provider.anthropic")
    ) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey
        self.httpClient = httpClient
        self.totalTimeout = totalTimeout
        self.defaultMaxTokens = defaultMaxTokens
        self.logger = logger
    }

    public func streamChat(_ request: ChatRequest) -> ProviderStream {
        .serverSentEvents(decoder: AnthropicEventDecoder(answersThroughTool: request.sampling.responseFormat != nil)) {
            try await send(request)
        }
    }

    public func checkReady() async throws {
        var request = HTTPClientRequest(url: "\(baseURL)/models")
        addHeaders(to: &request)
        let response = try await httpClient.execute(request, timeout: .seconds(5))
        _ = try await response.body.collect(upTo: 1 << 20)
        guard (200..<300).contains(response.status.code) else {
            throw ProviderError.http(status: Int(response.status.code), message: "upstream not ready", retryAfter: nil)
        }
    }

    private func addHeaders(to request: inout HTTPClientRequest) {
        if let apiKey { request.headers.add(name: "x-api-key", value: apiKey) }
        request.headers.add(name: "anthropic-version", value: Self.apiVersion)
    }

    /// Sends the streaming request (the reader turns a status other than 200 into `ProviderError.http`).
    private func send(_ chat: ChatRequest) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: "\(baseURL)/messages")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "text/event-stream")
        addHeaders(to: &request)
        for (name, value) in chat.extraHeaders { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: try MessagesRequestBody(chat, defaultMaxTokens: defaultMaxTokens).json()))

        return try await httpClient.execute(request, timeout: totalTimeout, logger: logger)
    }
}

/// The JSON body of a streaming Messages request.
///
/// The Messages API has no JSON mode: a response format becomes one tool whose input schema is the caller's schema
/// (any object for `json_object`), and `tool_choice` makes the model call it, so the answer is the tool's input —
/// what LiteLLM does for Anthropic too. The stream then carries that input as `input_json_delta` pieces.
struct MessagesRequestBody: Encodable {
    struct Message: Encodable, Equatable {
        let role: String
        let content: String
    }
    let model: String
    let system: String?
    let messages: [Message]
    let maxTokens: Int
    let temperature: Double?
    let topP: Double?
    let stopSequences: [String]?
    /// The end user (`SamplingOptions.endUser`), as the Messages API takes it: `{"user_id": …}`.
    let metadata: [String: String]?
    let stream = true
    /// The response format, sent as `tools` and `tool_choice` (written by `json()`, in the schema's own order).
    let responseFormat: ResponseFormat?

    /// The tool that carries a JSON answer when the format names none.
    static let jsonToolName = "json_answer"

    init(_ request: ChatRequest, defaultMaxTokens: Int) {
        model = request.model
        let systemParts = request.messages.filter { $0.role == .system }.map(\.content)
        system = systemParts.isEmpty ? nil : systemParts.joined(separator: "\n\n")
        messages = Self.alternating(request.messages.filter { $0.role != .system })
        maxTokens = request.maxTokens ?? defaultMaxTokens
        temperature = request.temperature
        topP = request.sampling.topP
        stopSequences = request.sampling.stop.isEmpty ? nil : request.sampling.stop
        metadata = request.sampling.endUser.map { ["user_id": $0] }
        responseFormat = request.sampling.responseFormat
    }

    /// The body's bytes: what `Encodable` writes, then the tool for a response format, which holds the caller's
    /// schema as they wrote it (`JSONEncoder` would reorder its members).
    func json() throws -> [UInt8] {
        var out = Array(try JSONEncoder().encode(self))
        guard let responseFormat, out.last == UInt8(ascii: "}") else { return out }
        out.removeLast()
        let anyObject = #"{"type":"object"}"#
        let (name, description, schema) = switch responseFormat {
        case .jsonObject:
            (Self.jsonToolName, "Write your whole answer as this tool's input: one JSON object.", anyObject)
        case .jsonSchema(let format):
            (format.name, format.description ?? "Write your whole answer as this tool's input, following its schema.",
             format.schema?.text ?? anyObject)
        }
        out += Array(#","tools":[{"name":"#.utf8)
        JSONText.appendQuoted(name, to: &out)
        out += Array(#","description":"#.utf8)
        JSONText.appendQuoted(description, to: &out)
        out += Array(#","input_schema":"#.utf8)
        out += Array(schema.utf8)
        out += Array(#"}],"tool_choice":{"type":"tool","name":"#.utf8)
        JSONText.appendQuoted(name, to: &out)
        out += Array("}}".utf8)
        return out
    }

    /// The API wants user and assistant turns to alternate, starting with the user: neighbours with the same
    /// role are joined, and a conversation whose kept part starts with an answer gets a short user turn first.
    static func alternating(_ messages: [ChatMessage]) -> [Message] {
        var result: [Message] = []
        for message in messages {
            let role = message.role == .assistant ? "assistant" : "user"
            if let last = result.last, last.role == role {
                result[result.count - 1] = Message(role: role, content: last.content + "\n\n" + message.content)
            } else {
                result.append(Message(role: role, content: message.content))
            }
        }
        if result.first?.role == "assistant" {
            result.insert(Message(role: "user", content: "(The conversation continues.)"), at: 0)
        }
        return result
    }

    enum CodingKeys: String, CodingKey {
        case model, system, messages, temperature, stream, metadata
        case maxTokens = "max_tokens"
        case topP = "top_p"
        case stopSequences = "stop_sequences"
    }
}
