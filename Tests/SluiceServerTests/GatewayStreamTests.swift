import Foundation
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

    @Test("with logprobs, each text chunk carries the entries that came before it; entries after the last text get a chunk of their own")
    func logprobsRideWithTheirText() throws {
        let envelope = OpenAIWire.Envelope(id: "chatcmpl-1", created: 1, model: "m")
        var stream = GatewayStream(envelope: envelope, includeUsage: false, withLogprobs: true)
        let entry = TokenLogprob(token: "Hi", logprob: -0.5, bytes: Array("Hi".utf8), topLogprobs: [.init(token: "Hi", logprob: -0.5)])
        #expect(stream.bytes(for: .logprobs([entry])) == nil)
        let chunks = [
            stream.bytes(for: .token(messageID: "m", seq: 1, text: "Hi")),
            // Text whose entries have not come yet (the redactor holds them back) still has an (empty) list.
            stream.bytes(for: .token(messageID: "m", seq: 2, text: " th")),
        ].compactMap { $0.map { buffer in String(buffer: buffer) } }
        _ = stream.bytes(for: .logprobs([TokenLogprob(token: " there", logprob: -Double.infinity)]))
        let done = stream.bytes(for: .done(.init(usage: WireUsage(nil), ttftMs: 1, durationMs: 2, finishReason: "stop", model: "m")))
        let end = try #require(done.map { buffer in String(buffer: buffer) })
        func choice(_ line: Substring) throws -> [String: Any] {
            let chunk = try #require(try JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any])
            return try #require((chunk["choices"] as? [[String: Any]])?.first)
        }
        let first = try choice(Substring(chunks[0].trimmingCharacters(in: .whitespacesAndNewlines)))
        let content = (first["logprobs"] as? [String: Any])?["content"] as? [[String: Any]]
        #expect(content?.count == 1 && content?.first?["token"] as? String == "Hi" && content?.first?["logprob"] as? Double == -0.5)
        #expect((content?.first?["top_logprobs"] as? [[String: Any]])?.first?["token"] as? String == "Hi")
        let second = try choice(Substring(chunks[1].trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(((second["logprobs"] as? [String: Any])?["content"] as? [Any])?.isEmpty == true)
        let lines = end.split(separator: "\n").filter { $0.hasPrefix("data: {") }
        #expect(lines.count == 2)
        let flushed = try choice(lines[0])
        // JSON has no -Infinity: OpenAI's -9999.0 stands for it.
        #expect(((flushed["logprobs"] as? [String: Any])?["content"] as? [[String: Any]])?.first?["logprob"] as? Double == -9999)
        #expect(try choice(lines[1])["finish_reason"] as? String == "stop")
    }
}
