import Testing

import SluiceCore

/// `AnswerUsage`: an upstream answer's `usage.prompt_tokens`, found from the end without decoding the vectors.
@Suite("Usage in an upstream's answer")
struct AnswerUsageTests {
    static func tokens(_ body: String) -> Int? { AnswerUsage.inputTokens(in: Array(body.utf8)) }

    @Test("found in OpenAI's, base64 and llama-server's shapes; nil when there is none; a model named usage is not it")
    func shapes() {
        #expect(Self.tokens(#"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,-0.2e-3]}],"model":"m","usage":{"prompt_tokens":8,"total_tokens":8}}"#) == 8)
        #expect(Self.tokens(#"{"data":[{"embedding":"AAAAPwAAgD8="}],"usage" : { "prompt_tokens_details": {"cached_tokens": 0}, "prompt_tokens" : 12 } }"#) == 12)
        #expect(Self.tokens(#"{"usage":{"prompt_tokens":3,"total_tokens":3},"model":"usage","data":[]}"#) == 3)
        #expect(Self.tokens(#"{"data":[{"embedding":[1,2]}],"model":"usage"}"#) == nil)
        #expect(Self.tokens(#"{"data":[],"usage":null}"#) == nil)
        #expect(Self.tokens(#"{"usage":null,"extra":{"prompt_tokens":5}}"#) == nil)
        #expect(Self.tokens("") == nil)
        // A rerank answer (llama-server's, vLLM's) may report only its total.
        #expect(Self.tokens(#"{"results":[{"index":0,"relevance_score":0.9}],"usage":{"total_tokens":21}}"#) == 21)
    }
}
