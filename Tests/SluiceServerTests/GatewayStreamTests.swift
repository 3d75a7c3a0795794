import NIOCore
import SluiceCore
import Testing
@testable import SluiceServer

@Suite("Gateway stream encoding")
struct GatewayStreamTests {
    @Test("a token's chunk, built from the per-stream head and tail, is exactly the generic chunk", arguments: [true, false])
    func tokenChunkMatchesGeneric(includeUsage: Bool) {
        let envelope = OpenAIWire.Envelope(id: "chatcmpl-\"x\"", created: 1_764_000_000, model: "gpt-4o \\ mini")
        var stream = GatewayStream(envelope: envelope, includeUsage: includeUsage)
        for text in ["Hello", "", " \"quoted\"\n", "é😀\u{01}", "</script>", "a\u{2028}b\u{2029}", "— ok", "back\\slash", "\t"] {
            let fast = stream.bytes(for: .token(messageID: "m", seq: 1, text: text)).map { String(buffer: $0) }
            #expect(fast == OpenAIWire.event(OpenAIWire.chunk(envelope, content: text, usageNull: includeUsage)))
        }
        #expect(!stream.ended)
    }

    @Test("a text that needs no escaping is quoted as its own bytes; one that does is recognised")
    func escapingIsRecognised() {
        for text in ["Hello", "", "é😀", "</script>", "— ok", "tab\t", "a\u{2028}", "\"", "\\", "\u{7F}"] {
            if !JSONText.needsEscaping(text) { #expect(JSONText.quote(text) == "\"" + text + "\"", "\(text)") }
        }
        for text in ["tab\t", "new\nline", "\"q\"", "back\\slash", "\u{01}", "a\u{2028}b", "b\u{2029}"] {
            #expect(JSONText.needsEscaping(text), "\(text)")
        }
        #expect(!JSONText.needsEscaping("plain text, é and 😀"))
    }
}
