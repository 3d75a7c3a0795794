import Foundation
import SluiceCore
import Testing

@testable import SluiceProviders

/// `TextChunkDecoder`: a text completion's events, read by the scanner's fast path or by `JSONDecoder`.
@Suite("Text completion chunks")
struct TextChunkDecoderTests {
    static func decode(_ data: String, with decoder: inout TextChunkDecoder) throws -> TextCompletionChunk? {
        guard case .event(.textCompletion(let chunk)) = try decoder.decode(data) else { return nil }
        return chunk
    }

    @Test("each event's text, finish and usage, with its bytes as they came; [DONE] ends the stream; an error object throws")
    func events() throws {
        var decoder = TextChunkDecoder()
        let piece = #"{"id":"cmpl-1","object":"text_completion","created":1,"model":"m","choices":[{"text":" caf\u00e9 \"x\"","index":0,"logprobs":{"tokens":[" caf"],"token_logprobs":[-0.1]},"finish_reason":null}]}"#
        let read = try #require(try Self.decode(piece, with: &decoder))
        #expect(read.text == " café \"x\"" && read.finishReason == nil && read.usage == nil && !read.usageOnly)
        #expect(read.data == Array(piece.utf8), "passed on byte for byte")
        #expect(!decoder.sawStop)

        let two = #"{"choices":[{"text":"a","index":0,"finish_reason":null},{"text":"b","index":1,"finish_reason":"length"}]}"#
        let both = try #require(try Self.decode(two, with: &decoder))
        #expect(both.text == "ab" && both.finishReason == "length" && decoder.sawStop)
        #expect(both.pieces == [.init(choice: 0, text: "a"), .init(choice: 1, text: "b")], "each answer's piece, named by its index")
        // JSONDecoder's path (a choice with `logprobs: null` first) names them too.
        let slow = #"{"choices":[{"logprobs":null,"index":1,"text":"b"}],"usage":null}"#
        #expect(try Self.decode(slow, with: &decoder)?.pieces == [.init(choice: 1, text: "b")])

        // llama-server's last chunk has its usage beside the choices; OpenAI's has none.
        let last = #"{"choices":[{"text":"","index":0,"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":8,"total_tokens":13,"prompt_tokens_details":{"cached_tokens":4}}}"#
        let counted = try #require(try Self.decode(last, with: &decoder))
        #expect(counted.usage == Usage(inputTokens: 5, outputTokens: 8, totalTokens: 13, cachedInputTokens: 4) && !counted.usageOnly)
        let usageOnly = try #require(try Self.decode(#"{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":8}}"#, with: &decoder))
        #expect(usageOnly.usageOnly && usageOnly.usage?.totalTokens == 13)

        #expect(try decoder.decode("[DONE]") == .endOfStream)
        #expect(throws: ProviderError.upstreamError(message: "boom")) {
            try decoder.decode(#"{"error":{"message":"boom","type":"server_error"}}"#)
        }
        #expect(throws: ProviderError.self) { try decoder.decode(#"{"choices":[{"text":"#) }
    }
}
