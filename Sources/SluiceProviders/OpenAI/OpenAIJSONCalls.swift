import AsyncHTTPClient
import Foundation
import NIOCore
import SluiceCore

extension OpenAICompatibleProvider {
    /// `POST <base>/<path>` (`/embeddings`, `/rerank`), as OpenAI, vLLM, Ollama and llama-server (started with
    /// `--embeddings` or `--reranking`) serve them: the answer's body as it came.
    public func send(_ call: UpstreamJSONCall) async throws -> [UInt8] {
        var request = HTTPClientRequest(url: endpoint.url(call.path))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        endpoint.authorize(&request)
        for (name, value) in call.extraHeaders { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: call.body))
        do {
            let response = try await httpClient.execute(request, timeout: totalTimeout, logger: logger)
            // A thousand inputs of 3 072 floats written as text is about 40 MB.
            let body = try await response.body.collect(upTo: 256 << 20)
            guard (200..<300).contains(response.status.code) else {
                throw ProviderError.http(
                    status: Int(response.status.code), message: UpstreamFailure.message(from: body),
                    retryAfter: response.headers.first(name: "Retry-After"))
            }
            return Array(body.readableBytesView)
        } catch {
            throw UpstreamFailure.transport(error)
        }
    }
}
