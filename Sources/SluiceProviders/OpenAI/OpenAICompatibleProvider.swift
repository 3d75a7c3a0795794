import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import SluiceCore

/// Streams Chat Completions from any OpenAI-compatible upstream (OpenAI, llama-server, vLLM, Ollama, the
/// simulator) over AsyncHTTPClient, parsing its SSE incrementally.
public struct OpenAICompatibleProvider: ChatProvider {
    /// Base URL such as `http://127.0.0.1:8081/v1`; requests go to `<base>/chat/completions`.
    public let baseURL: String
    private let apiKey: String?
    private let httpClient: HTTPClient
    private let totalTimeout: TimeAmount
    private let logger: Logger

    public init(
        baseURL: String, apiKey: String?, httpClient: HTTPClient, totalTimeout: TimeAmount = .minutes(10),
        logger: Logger = Logger(label: "sluice.provider")
    ) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey
        self.httpClient = httpClient
        self.totalTimeout = totalTimeout
        self.logger = logger
    }

    public func streamChat(_ request: ChatRequest) -> ProviderStream {
        .serverSentEvents(decoder: ChunkDecoder()) { try await send(request) }
    }

    public func checkReady() async throws {
        var request = HTTPClientRequest(url: "\(baseURL)/models")
        if let apiKey { request.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        let response = try await httpClient.execute(request, timeout: .seconds(5))
        _ = try await response.body.collect(upTo: 1 << 20)
        guard (200..<300).contains(response.status.code) else {
            throw ProviderError.http(status: Int(response.status.code), message: "upstream not ready", retryAfter: nil)
        }
    }

    /// Sends the streaming request (the reader turns a status other than 200 into `ProviderError.http`).
    private func send(_ chat: ChatRequest) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: "\(baseURL)/chat/completions")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "text/event-stream")
        if let apiKey { request.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        for (name, value) in chat.extraHeaders { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(CompletionRequestBody(chat))))

        return try await httpClient.execute(request, timeout: totalTimeout, logger: logger)
    }

    /// Maps AsyncHTTPClient and NIO errors to `ProviderError`; keeps ours and cancellation as they are.
    static func mapTransportError(_ error: any Error) -> any Error {
        switch error {
        case is ProviderError, is CancellationError: return error
        case let error as HTTPClientError where error == .cancelled: return CancellationError()
        default: return ProviderError.connection(String(describing: error))
        }
    }

    static func errorMessage(from body: ByteBuffer?) -> String {
        guard let body, body.readableBytes > 0 else { return "" }
        let data = Data(body.readableBytesView)
        if let envelope = try? JSONDecoder().decode(ErrorEnvelope.self, from: data) {
            return envelope.error.message ?? envelope.error.type ?? ""
        }
        return String(decoding: data.prefix(500), as: UTF8.self)
    }
}

/// The JSON body of a streaming Chat Completions request.
struct CompletionRequestBody: Encodable {
    struct StreamOptions: Encodable {
        let includeUsage = true
        enum CodingKeys: String, CodingKey { case includeUsage = "include_usage" }
    }
    let model: String
    let messages: [ChatMessage]
    let stream = true
    let streamOptions = StreamOptions()
    let temperature: Double?
    let maxTokens: Int?

    init(_ request: ChatRequest) {
        model = request.model
        messages = request.messages
        temperature = request.temperature
        maxTokens = request.maxTokens
    }

    enum CodingKeys: String, CodingKey {
        case model, messages, stream, temperature
        case streamOptions = "stream_options"
        case maxTokens = "max_tokens"
    }
}

/// `{"error": {"message": ..., "type": ...}}` as OpenAI-compatible servers send it.
struct ErrorEnvelope: Decodable {
    struct Body: Decodable {
        let message: String?
        let type: String?
    }
    let error: Body
}
