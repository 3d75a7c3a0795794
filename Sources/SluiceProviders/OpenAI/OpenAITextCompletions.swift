import AsyncHTTPClient
import Foundation
import NIOCore
import SluiceCore

extension OpenAICompatibleProvider {
    /// `POST <base>/completions`, as OpenAI, vLLM, Ollama and llama-server serve it: streamed (each event one
    /// `.textCompletion`) or, for `request.stream == false`, one `.textCompletion` with the whole answer.
    public func streamText(_ completion: TextCompletionRequest) -> ProviderStream {
        let send: @Sendable () async throws -> HTTPClientResponse = { [self] in
            var request = HTTPClientRequest(url: endpoint.url("completions"))
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            if completion.stream { request.headers.add(name: "Accept", value: "text/event-stream") }
            endpoint.authorize(&request)
            for (name, value) in completion.extraHeaders { request.headers.add(name: name, value: value) }
            request.body = .bytes(ByteBuffer(bytes: completion.body))
            return try await httpClient.execute(request, timeout: totalTimeout, logger: logger)
        }
        if completion.stream { return .serverSentEvents(decoder: TextChunkDecoder(), send: send) }
        return ProviderStream {
            var done = false
            return .init {
                guard !done else { return nil }
                done = true
                do {
                    let response = try await send()
                    let body = try await response.body.collect(upTo: 64 << 20)
                    guard (200..<300).contains(response.status.code) else {
                        throw ProviderError.http(
                            status: Int(response.status.code), message: UpstreamFailure.message(from: body),
                            retryAfter: response.headers.first(name: "Retry-After"))
                    }
                    var decoder = TextChunkDecoder()
                    guard case .event(let event) = try decoder.decode(String(decoding: body.readableBytesView, as: UTF8.self)) else {
                        throw ProviderError.malformed("the text completion was not a JSON object")
                    }
                    return event
                } catch {
                    throw UpstreamFailure.transport(error)
                }
            }
        }
    }
}

/// Reads one text completion event (or whole answer): its choices' text, why they stopped, the usage; an `error`
/// object is the upstream's failure.
struct TextChunkDecoder: StreamEventDecoder, Sendable {
    private(set) var sawStop = false

    mutating func decode(_ data: String) throws -> StreamStep {
        if data == "[DONE]" { return .endOfStream }
        // Almost every event is one piece of text: read without JSONDecoder, as chat chunks are.
        if let choices = ChunkScanner.choices(data) {
            let finish = choices.lazy.compactMap(\.finishReason).first
            if finish != nil { sawStop = true }
            return .event(.textCompletion(TextCompletionChunk(
                data: Array(data.utf8), pieces: choices.compactMap { choice in choice.content.map { .init(choice: choice.index, text: $0) } },
                finishReason: finish)))
        }
        let chunk: TextChunk
        do {
            chunk = try JSONDecoder().decode(TextChunk.self, from: Data(data.utf8))
        } catch {
            throw ProviderError.malformed("a text completion chunk was not valid JSON")
        }
        if let error = chunk.error {
            throw ProviderError.upstreamError(message: error.message ?? error.type ?? "unknown upstream error")
        }
        let choices = chunk.choices ?? []
        let finish = choices.lazy.compactMap(\.finishReason).first
        if finish != nil { sawStop = true }
        let usage = chunk.usage?.counts
        return .event(.textCompletion(TextCompletionChunk(
            data: Array(data.utf8), pieces: choices.compactMap { choice in choice.text.map { .init(choice: choice.index ?? 0, text: $0) } },
            usage: usage,
            usageOnly: choices.isEmpty && usage != nil, finishReason: finish)))
    }

    /// A text completion's event: its choices' text where a chat chunk has a delta; the usage and error as there.
    private struct TextChunk: Decodable {
        struct Choice: Decodable {
            let index: Int?
            let text: String?
            let finishReason: String?
            enum CodingKeys: String, CodingKey {
                case index, text
                case finishReason = "finish_reason"
            }
        }
        let choices: [Choice]?
        let usage: Chunk.ChunkUsage?
        let error: ErrorEnvelope.Body?
    }
}
