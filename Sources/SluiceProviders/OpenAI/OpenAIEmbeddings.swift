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
            let bytes = Array(body.readableBytesView)
            return EmbeddingResponse(body: bytes, promptTokens: EmbeddingUsage.promptTokens(in: bytes))
        } catch {
            throw UpstreamFailure.transport(error)
        }
    }
}

/// The part of an embeddings answer Sluice reads: `usage.prompt_tokens`. The answer is mostly floats (a thousand texts
/// of 3 072 numbers is 40 MB), which `JSONDecoder` read in full to find it (about 5 % of Sluice's CPU per call): the
/// usage comes last, so it is looked for from the end, and read from there with `JSONValue`.
enum EmbeddingUsage {
    static func promptTokens(in body: [UInt8]) -> Int? {
        let key = Array(#""usage""#.utf8)
        // The last `"usage"` followed by a colon: the key, not a value such as a model's name (the vectors hold no
        // quotes).
        var start = body.count - key.count
        var colon: Int?
        while start >= 0, colon == nil {
            if body[start..<(start + key.count)].elementsEqual(key) {
                let after = body[(start + key.count)...].firstIndex { ![UInt8(ascii: " "), 10, 13, 9].contains($0) }
                if let after, body[after] == UInt8(ascii: ":") { colon = after }
            }
            start -= 1
        }
        guard let colon else { return nil }
        // The usage object: from its `{` to the matching `}` (it holds only numbers and nested objects).
        guard let open = body[(colon + 1)...].firstIndex(where: { ![UInt8(ascii: " "), 10, 13, 9].contains($0) }),
            body[open] == UInt8(ascii: "{")
        else { return nil }
        var depth = 0
        var end = open
        while end < body.count {
            if body[end] == UInt8(ascii: "{") { depth += 1 }
            if body[end] == UInt8(ascii: "}") {
                depth -= 1
                if depth == 0 { break }
            }
            end += 1
        }
        guard end < body.count, case .object(let members)? = try? JSONValue(parsing: body[open...end]) else { return nil }
        guard case .number(let text)? = members.first(where: { $0.key == "prompt_tokens" })?.value else { return nil }
        return Int(text)
    }
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
