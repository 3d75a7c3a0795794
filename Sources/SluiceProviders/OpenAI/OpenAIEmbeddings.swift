import AsyncHTTPClient
import Foundation
import NIOCore
import SluiceCore

extension OpenAICompatibleProvider {
    /// `POST <base>/embeddings`, as OpenAI, vLLM, Ollama and llama-server (started with `--embeddings`) serve it.
    public func embed(_ embedding: EmbeddingRequest) async throws -> EmbeddingResponse {
        var request = HTTPClientRequest(url: "\(baseURL)/embeddings")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let apiKey { request.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        for (name, value) in embedding.extraHeaders { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: EmbeddingRequestBody.json(embedding)))
        do {
            let response = try await httpClient.execute(request, timeout: totalTimeout, logger: logger)
            // A thousand inputs of 3 072 floats written as text is about 40 MB.
            let body = try await response.body.collect(upTo: 256 << 20)
            guard (200..<300).contains(response.status.code) else {
                throw ProviderError.http(
                    status: Int(response.status.code), message: UpstreamFailure.message(from: body),
                    retryAfter: response.headers.first(name: "Retry-After"))
            }
            let usage = try? JSONDecoder().decode(EmbeddingUsageEnvelope.self, from: Data(body.readableBytesView))
            return EmbeddingResponse(body: Array(body.readableBytesView), promptTokens: usage?.usage?.promptTokens)
        } catch {
            throw UpstreamFailure.transport(error)
        }
    }
}

/// The part of an embeddings answer Sluice reads: `usage.prompt_tokens`.
private struct EmbeddingUsageEnvelope: Decodable {
    struct Usage: Decodable {
        let promptTokens: Int?
        enum CodingKeys: String, CodingKey { case promptTokens = "prompt_tokens" }
    }
    let usage: Usage?
}

/// The JSON body of an embeddings request, as OpenAI defines it.
enum EmbeddingRequestBody {
    static func json(_ request: EmbeddingRequest) -> [UInt8] {
        var out: [UInt8] = Array(#"{"model":"#.utf8)
        JSONText.appendQuoted(request.model, to: &out)
        out += Array(#","input":["#.utf8)
        switch request.input {
        case .texts(let texts):
            for (index, text) in texts.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONText.appendQuoted(text, to: &out)
            }
        case .tokens(let inputs):
            for (index, tokens) in inputs.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                out += Array(("[" + tokens.map(String.init).joined(separator: ",") + "]").utf8)
            }
        }
        out.append(UInt8(ascii: "]"))
        if let dimensions = request.dimensions { out += Array(#","dimensions":\#(dimensions)"#.utf8) }
        if let format = request.encodingFormat {
            out += Array(#","encoding_format":"#.utf8)
            JSONText.appendQuoted(format, to: &out)
        }
        if let endUser = request.endUser {
            out += Array(#","user":"#.utf8)
            JSONText.appendQuoted(endUser, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }
}
