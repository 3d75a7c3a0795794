import SluiceCore
import Testing
@testable import SluiceServer

@Suite("Gateway stream encoding")
struct GatewayStreamTests {
    @Test("a token's chunk, built from the per-stream head and tail, is exactly the generic chunk", arguments: [true, false])
    func tokenChunkMatchesGeneric(includeUsage: Bool) {
        let envelope = OpenAIWire.Envelope(id: "chatcmpl-\"x\"", created: 1_764_000_000, model: "gpt-4o \\ mini")
        var stream = GatewayStream(envelope: envelope, includeUsage: includeUsage)
        for text in ["Hello", "", " \"quoted\"\n", "é😀\u{01}", "</script>"] {
            let fast = stream.bytes(for: .token(messageID: "m", seq: 1, text: text)).map { String(decoding: $0, as: UTF8.self) }
            #expect(fast == OpenAIWire.event(OpenAIWire.chunk(envelope, content: text, usageNull: includeUsage)))
        }
        #expect(!stream.ended)
    }
}
