import AsyncHTTPClient
import Foundation
import NIOCore
import SluiceCore

/// Counts with the served model's own tokenizer and chat template, by asking llama-server:
/// `POST /apply-template` renders the messages exactly as a chat completion would, and `POST /tokenize`
/// tokenizes that prompt, so the count equals the `prompt_tokens` llama-server reports.
public struct LlamaServerPromptCounter: PromptCounter {
    /// llama-server's root URL, such as `http://127.0.0.1:8085` (a trailing `/v1` is dropped).
    public let baseURL: String
    private let httpClient: HTTPClient

    public init(baseURL: String, httpClient: HTTPClient) {
        var root = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        if root.hasSuffix("/v1") { root = String(root.dropLast(3)) }
        self.baseURL = root
        self.httpClient = httpClient
    }

    public func promptTokens(_ messages: [ChatMessage]) async throws -> Int {
        struct Template: Decodable { let prompt: String }
        let rendered: Template = try await post("/apply-template", ["messages": messages])
        // The template renders text only: images add their estimate (`ImageInput.estimatedTokens`).
        return try await tokens(rendered.prompt, addSpecial: true) + messages.imageTokens
    }

    public func textTokens(_ text: String) async throws -> Int {
        try await tokens(text, addSpecial: false)
    }

    private func tokens(_ content: String, addSpecial: Bool) async throws -> Int {
        struct Body: Encodable {
            let content: String
            let add_special: Bool
        }
        struct Tokens: Decodable { let tokens: [Int] }
        let result: Tokens = try await post("/tokenize", Body(content: content, add_special: addSpecial))
        return result.tokens.count
    }

    /// Sends one request, once more on a connection failure: both endpoints are pure, and llama-server may
    /// close a kept-alive connection just as the pool hands it out again (seen as "I/O on closed channel").
    private func execute(_ request: HTTPClientRequest, path: String) async throws -> HTTPClientResponse {
        var attempt = 1
        while true {
            do {
                return try await httpClient.execute(request, timeout: .seconds(30))
            } catch {
                guard attempt < 3, !(error is CancellationError) else {
                    throw ProviderError.connection("llama-server at \(baseURL) did not answer \(path): \(error)")
                }
                attempt += 1
            }
        }
    }

    private func post<Body: Encodable, Answer: Decodable>(_ path: String, _ body: Body) async throws -> Answer {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(body)))
        let response = try await execute(request, path: path)
        let data = try await response.body.collect(upTo: 16 << 20)
        guard response.status == .ok else {
            throw ProviderError.http(status: Int(response.status.code), message: "llama-server \(path) failed", retryAfter: nil)
        }
        do {
            return try JSONDecoder().decode(Answer.self, from: Data(data.readableBytesView))
        } catch {
            throw ProviderError.malformed("llama-server \(path) answered something other than expected")
        }
    }
}
