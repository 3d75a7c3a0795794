import NIOCore
import SluiceCore
import Testing
@testable import SluiceProviders

@Suite("Chat Completions chunks")
struct ChunkDecoderTests {
    @Test("content deltas, finish reason and usage become provider events; empty deltas are dropped")
    func ordinaryChunks() throws {
        var decoder = ChunkDecoder()
        #expect(try decoder.decode(#"{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#) == .events([]))
        #expect(try decoder.decode(#"{"choices":[{"index":0,"delta":{"content":"Hi"}}]}"#) == .event(.delta("Hi")))
        #expect(!decoder.sawFinish)
        #expect(try decoder.decode(#"{"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}"#) == .events([.finish(reason: "length")]))
        #expect(decoder.sawFinish)
        #expect(try decoder.decode(#"{"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3}}"#)
            == .events([.usage(Usage(inputTokens: 7, outputTokens: 3, totalTokens: 10))]))
        #expect(try decoder.decode("[DONE]") == .endOfStream)
    }

    @Test("log probabilities (OpenAI's, llama-server's with token ids) come just before the text they describe")
    func logprobs() throws {
        var decoder = ChunkDecoder()
        let chunk = #"{"choices":[{"index":0,"delta":{"content":" world"},"logprobs":{"content":[{"id":1917,"token":" wor","logprob":-0.25,"bytes":[32,119,111,114],"top_logprobs":[{"id":1917,"token":" wor","logprob":-0.25,"bytes":[32,119,111,114]},{"id":7,"token":" W","logprob":-2.5e-1}]},{"token":"ld","logprob":-1e-05,"bytes":null,"top_logprobs":[]}]},"finish_reason":null}]}"#
        #expect(try decoder.decode(chunk) == .events([
            .logprobs([
                TokenLogprob(
                    token: " wor", logprob: -0.25, bytes: Array(" wor".utf8),
                    topLogprobs: [.init(token: " wor", logprob: -0.25, bytes: Array(" wor".utf8)), .init(token: " W", logprob: -0.25)]),
                TokenLogprob(token: "ld", logprob: -1e-05),
            ]),
            .delta(" world"),
        ]))
        // A chunk of thinking's entries describe no text of the answer.
        #expect(try decoder.decode(#"{"choices":[{"index":0,"delta":{"reasoning_content":"Hmm"},"logprobs":{"content":[{"token":"Hmm","logprob":-1}]}}]}"#)
            == .events([.reasoning("Hmm")]))
        // `"logprobs": null` (every chunk of OpenAI's when none were asked for) stays on the fast path.
        #expect(try decoder.decode(#"{"choices":[{"index":0,"delta":{"content":"Hi"},"logprobs":null}]}"#) == .event(.delta("Hi")))
    }

    @Test("thinking (`reasoning_content`, or `reasoning`) comes before the text of its chunk; a `reasoning` that is no text is not read")
    func reasoning() throws {
        var decoder = ChunkDecoder()
        #expect(try decoder.decode(#"{"choices":[{"index":0,"delta":{"reasoning_content":"Let me see"}}]}"#) == .events([.reasoning("Let me see")]))
        #expect(try decoder.decode(#"{"choices":[{"index":0,"delta":{"reasoning":"Hm","content":"Hi"}}]}"#) == .events([.reasoning("Hm"), .delta("Hi")]))
        #expect(try decoder.decode(#"{"choices":[{"index":0,"delta":{"reasoning_content":null,"content":"Hi"}}]}"#) == .event(.delta("Hi")))
        #expect(try decoder.decode(#"{"choices":[{"index":0,"delta":{"reasoning":{"effort":"low"},"content":"Hi"}}]}"#) == .events([.delta("Hi")]))
    }

    @Test("only the first choice is followed")
    func otherChoicesIgnored() throws {
        var decoder = ChunkDecoder()
        #expect(try decoder.decode(#"{"choices":[{"index":1,"delta":{"content":"B"}},{"index":0,"delta":{"content":"A"}}]}"#) == .events([.delta("A")]))
    }

    @Test("an error object in the stream throws upstreamError with its message")
    func errorObject() {
        var decoder = ChunkDecoder()
        #expect(throws: ProviderError.upstreamError(message: "overloaded")) {
            try decoder.decode(#"{"error":{"message":"overloaded","type":"server_error"}}"#)
        }
        #expect(throws: ProviderError.upstreamError(message: "server_error")) {
            try decoder.decode(#"{"error":{"type":"server_error"}}"#)
        }
    }

    @Test("a chunk that is not JSON throws malformed")
    func malformed() {
        var decoder = ChunkDecoder()
        #expect(throws: ProviderError.self) { try decoder.decode("{\"choices\": [") }
    }

    @Test("error bodies of non-2xx answers give the upstream's message, or the start of the text")
    func errorBodies() {
        #expect(UpstreamFailure.message(from: ByteBuffer(string: #"{"error":{"message":"bad key"}}"#)) == "bad key")
        // Anthropic's shape: the same envelope with a top-level type.
        #expect(UpstreamFailure.message(
            from: ByteBuffer(string: #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#)) == "Overloaded")
        #expect(UpstreamFailure.message(from: ByteBuffer(string: #"{"error":{"type":"rate_limit_error"}}"#)) == "rate_limit_error")
        #expect(UpstreamFailure.message(from: ByteBuffer(string: "upstream down")) == "upstream down")
        #expect(UpstreamFailure.message(from: nil) == "")
    }

    @Test("the request body asks for a stream with usage and carries the messages and options given")
    func requestBody() throws {
        let messages = [
            ChatMessage(role: .system, content: "Be \"brief\"\n\\ é 😀 \u{2028}\u{01}"), ChatMessage(role: .user, content: "hi"),
            ChatMessage(role: .assistant, content: ""),
        ]
        let bytes = CompletionRequestBody.json(ChatRequest(model: "gpt-4o \"x\"", messages: messages, temperature: 0.2, maxTokens: 5))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(json["model"] as? String == "gpt-4o \"x\"")
        #expect(json["stream"] as? Bool == true)
        #expect((json["stream_options"] as? [String: Any])?["include_usage"] as? Bool == true)
        #expect(json["max_tokens"] as? Int == 5)
        #expect(json["temperature"] as? Double == 0.2)
        let sent = try #require(json["messages"] as? [[String: String]])
        #expect(sent.map { ChatMessage(role: MessageRole(rawValue: $0["role"] ?? "")!, content: $0["content"] ?? "-") } == messages)
        // Options not given are left out, so the upstream's defaults apply.
        let bare = try #require(try JSONSerialization.jsonObject(
            with: Data(CompletionRequestBody.json(ChatRequest(model: "m", messages: [])))) as? [String: Any])
        #expect(bare["temperature"] == nil && bare["max_tokens"] == nil)
        #expect(["top_p", "stop", "seed", "presence_penalty", "frequency_penalty", "user"].allSatisfy { bare[$0] == nil })
        // The caller's other sampling options go on as OpenAI spells them, and so does its end user.
        let sampling = SamplingOptions(
            topP: 0.5, stop: ["\nUser:", "END"], seed: 7, presencePenalty: -1, frequencyPenalty: 0.25, endUser: "shop \"42\"")
        let options = try #require(try JSONSerialization.jsonObject(
            with: Data(CompletionRequestBody.json(ChatRequest(model: "m", messages: messages, sampling: sampling)))) as? [String: Any])
        #expect(options["top_p"] as? Double == 0.5)
        #expect(options["stop"] as? [String] == ["\nUser:", "END"])
        #expect(options["seed"] as? Int == 7)
        #expect(options["presence_penalty"] as? Double == -1)
        #expect(options["frequency_penalty"] as? Double == 0.25)
        #expect(options["user"] as? String == "shop \"42\"")
        #expect((bare["messages"] as? [Any])?.isEmpty == true)
    }
}

import Foundation

enum JSONEncoderForTests {
    static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }
}
