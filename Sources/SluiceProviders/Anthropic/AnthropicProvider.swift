import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import SluiceCore

/// Streams from Anthropic's Messages API (`POST <base>/messages`, `x-api-key`, `anthropic-version`).
/// System messages (the system prompt and Sluice's running summary) go into the top-level `system`; roles are
/// made to alternate as the API requires.
public struct AnthropicProvider: ChatProvider {
    /// Where the API is and what each request carries (the key in `x-api-key` unless the operator names another).
    public let endpoint: UpstreamEndpoint
    /// Base URL such as `https://api.anthropic.com/v1`.
    public var baseURL: String { endpoint.base }
    private let httpClient: HTTPClient
    private let totalTimeout: TimeAmount
    private let logger: Logger
    /// `max_tokens` is required by the API; this is sent when Sluice has no limit of its own.
    private let defaultMaxTokens: Int
    /// Marks each request's system prompt and last turn for Anthropic's prompt cache (`MessagesRequestBody`).
    private let promptCaching: Bool

    public static let apiVersion = "2023-06-01"

    public init(
        baseURL: String, apiKey: String?, httpClient: HTTPClient, totalTimeout: TimeAmount = .minutes(10),
        defaultMaxTokens: Int = 4096, promptCaching: Bool = true, keyHeader: String? = nil, headers: [UpstreamEndpoint.Header] = [],
        logger: Logger = Logger(label: "sluice.provider.anthropic")
    ) {
        self.promptCaching = promptCaching
        endpoint = UpstreamEndpoint(baseURL: baseURL, apiKey: apiKey, keyHeader: keyHeader ?? "x-api-key", headers: headers)
        self.httpClient = httpClient
        self.totalTimeout = totalTimeout
        self.defaultMaxTokens = defaultMaxTokens
        self.logger = logger
    }

    public func streamChat(_ request: ChatRequest) -> ProviderStream {
        // Answered without them, a caller that reads `choices[0].logprobs.content` would break on null.
        if request.sampling.logprobs != nil {
            return .failing(ProviderError.http(
                status: 400,
                message: "\(request.model) is served by Anthropic's Messages API, which returns no log probabilities: send the request without 'logprobs' and 'top_logprobs', or ask an OpenAI-compatible model.",
                retryAfter: nil))
        }
        return .serverSentEvents(decoder: AnthropicEventDecoder(answersThroughTool: MessagesRequestBody.answersThroughTool(request))) {
            try await send(request)
        }
    }

    public func checkReady() async throws {
        var request = HTTPClientRequest(url: endpoint.url("models"))
        addHeaders(to: &request)
        let response = try await httpClient.execute(request, timeout: .seconds(5))
        _ = try await response.body.collect(upTo: 1 << 20)
        guard (200..<300).contains(response.status.code) else {
            throw ProviderError.http(status: Int(response.status.code), message: "upstream not ready", retryAfter: nil)
        }
    }

    private func addHeaders(to request: inout HTTPClientRequest) {
        request.headers.add(name: "anthropic-version", value: Self.apiVersion)
        endpoint.authorize(&request)
    }

    /// Sends the streaming request (the reader turns a status other than 200 into `ProviderError.http`).
    private func send(_ chat: ChatRequest) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: endpoint.url("messages"))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "text/event-stream")
        addHeaders(to: &request)
        for (name, value) in chat.extraHeaders { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: try MessagesRequestBody(chat, defaultMaxTokens: defaultMaxTokens, promptCaching: promptCaching).json()))

        return try await httpClient.execute(request, timeout: totalTimeout, logger: logger)
    }
}
