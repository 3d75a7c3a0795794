import Foundation
import Testing
@testable import SluiceProviders

/// The scanner is a fast path: wherever it answers, it must answer exactly what `JSONDecoder` reads.
@Suite("Chunk scanner")
struct ChunkScannerTests {
    /// What the full decoder reads from a chunk, in the scanner's terms.
    static func reference(_ data: String) throws -> [ChunkScanner.Choice] {
        let chunk = try JSONDecoder().decode(Chunk.self, from: Data(data.utf8))
        return (chunk.choices ?? []).map {
            ChunkScanner.Choice(index: $0.index ?? 0, content: $0.delta?.content, finishReason: $0.finishReason)
        }
    }

    static let realChunks = [
        // OpenAI
        #"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}]}"#,
        #"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}"#,
        // llama-server
        #"{"choices":[{"finish_reason":null,"index":0,"delta":{"content":"Hello"}}],"created":1,"id":"chatcmpl-x","model":"SmolLM2","system_fingerprint":"b1-abc","object":"chat.completion.chunk","timings":{"prompt_n":5,"predicted_ms":1.5e1}}"#,
        // vLLM, Ollama
        #"{"id":"cmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"é\n\"quoted\"\t\\ \/ \u00e9 \ud83d\ude00"},"logprobs":null,"finish_reason":null,"stop_reason":null}]}"#,
        #"{"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"llama3","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":"日本語"},"finish_reason":null}]}"#,
        // Several choices, whitespace everywhere, a null delta, no choices
        " { \"choices\" : [ { \"index\" : 1 , \"delta\" : { \"content\" : \"B\" } } , { \"index\" : 0 , \"delta\" : { \"content\" : \"A\" } } ] } \n",
        #"{"choices":[{"index":0,"delta":null,"finish_reason":"length"}]}"#,
        #"{"choices":[]}"#,
        #"{"object":"chat.completion.chunk"}"#,
    ]

    @Test("on real chunks of OpenAI, llama-server, vLLM and Ollama it reads exactly what JSONDecoder reads")
    func agreesOnRealChunks() throws {
        for data in Self.realChunks {
            let scanned = try #require(ChunkScanner.choices(data), "the scanner gave up on \(data)")
            #expect(scanned == (try Self.reference(data)), "\(data)")
        }
    }

    @Test("on 2 000 chunks of random text (escapes, control characters, emoji, every plane) it agrees with JSONDecoder")
    func agreesOnRandomText() throws {
        var generator = SystemRandomNumberGenerator()
        let pool: [Character] = Array("aZ09 \"\\/\n\t\r\u{08}\u{0C}\u{01}\u{1F}é€😀𝄞日本\u{7F}\u{2028}<>&'")
        for _ in 0..<2000 {
            let text = String((0..<Int.random(in: 0...24, using: &generator)).map { _ in pool.randomElement(using: &generator)! })
            // JSONSerialization escapes as a real upstream would (with or without \u escapes and \/).
            let delta = try JSONSerialization.data(withJSONObject: ["content": text])
            let data = #"{"id":"x","choices":[{"index":0,"delta":"# + String(decoding: delta, as: UTF8.self) + #","finish_reason":null}]}"#
            let scanned = try #require(ChunkScanner.choices(data))
            #expect(scanned == (try Self.reference(data)))
            #expect(scanned.first?.content == text)
        }
    }

    @Test("usage, error, log probabilities and anything invalid go to the full decoder")
    func declines() {
        for data in [
            #"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":" world"},"logprobs":{"content":[{"token":" world","logprob":-0.25,"bytes":[32,119],"top_logprobs":[]}]},"finish_reason":null}]}"#,

            #"{"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3}}"#,
            #"{"error":{"message":"overloaded"}}"#,
            #"{"choices": ["#, "[1,2]", "", "null", #"{"choices":[{"index":0,"delta":{"content":"a"}}]} trailing"#,
            "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"raw\ncontrol\"}}]}", #"{"choices":[{"delta":{"content":"\ud83d"}}]}"#,
            #"{"choices":[{"delta":{"content":"\x"}}]}"#, #"{"choices":[{"index":"0"}]}"#,
        ] {
            #expect(ChunkScanner.choices(data) == nil, "\(data)")
        }
    }
}
