import SluiceCore
@testable import SluiceProviders
import Testing

/// llama-server repeats a prefilled answer's start before the continuation; other upstreams do not. The decoder
/// takes the start off only when the text really begins with all of it.
@Suite("A prefilled answer's start, repeated by the upstream")
struct EchoedPrefillTests {
    /// The text passed on for `pieces`, with what is held at the end.
    static func passed(_ start: String, _ pieces: [String]) -> [String] {
        var echo = EchoedPrefill(start)
        return pieces.map { echo.take($0) } + [echo.finish()]
    }

    @Test("the start repeated in the first piece with the model's first token, or over several pieces, is taken off")
    func repeated() {
        // As llama-server streams it: the start and the first new token in one chunk.
        #expect(Self.passed("1, 2, 3, 4,", ["1, 2, 3, 4, ", "5", ","]) == [" ", "5", ",", ""])
        // Split across pieces (a multi-byte character included): held until the whole start has come.
        #expect(Self.passed("Voilà:", ["Vo", "il", "à", ": ", "oui"]) == ["", "", "", " ", "oui", ""])
        // The start and nothing more: nothing passed on.
        #expect(Self.passed("{", ["{"]) == ["", ""])
    }

    @Test("a model that continues without repeating keeps every character, even when it begins as the start does")
    func notRepeated() {
        #expect(Self.passed("Hello", [" world", "!"]) == [" world", "!", ""])
        // Begins as the start, then differs: all of it passes once it differs.
        #expect(Self.passed("Hello", ["He", "y there"]) == ["", "Hey there", ""])
        // Ends while still looking like the start: what was held is the model's.
        #expect(Self.passed("Hello", ["Hel"]) == ["", "Hel"])
    }

    @Test("the chunk decoder applies it to the text only: thinking passes at once; held text goes out before the finish")
    func decoder() throws {
        var decoder = ChunkDecoder(prefill: "Sure")
        func texts(_ data: String) throws -> [ProviderEventSummary] {
            switch try decoder.decode(data) {
            case .event(let event): return [ProviderEventSummary(event)]
            case .events(let events): return events.map(ProviderEventSummary.init)
            case .endOfStream: return [.end]
            }
        }
        #expect(try texts(#"{"choices":[{"index":0,"delta":{"reasoning_content":"hmm"}}]}"#) == [.reasoning("hmm")])
        #expect(try texts(#"{"choices":[{"index":0,"delta":{"content":"Su"}}]}"#) == [])
        #expect(try texts(#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#) == [.text("Su"), .finish])
        #expect(try texts(#"{"choices":[{"index":0,"delta":{"content":" more"}}]}"#) == [.text(" more")])

        var differing = ChunkDecoder(prefill: "Sure")
        #expect(try differing.decode(#"{"choices":[{"index":0,"delta":{"content":"Su"}}]}"#) == .events([]))
        #expect(try differing.decode(#"{"choices":[{"index":0,"delta":{"content":"ch"}}]}"#) == .events([.delta("Such")]))

        var plain = ChunkDecoder()
        #expect(try plain.decode(#"{"choices":[{"index":0,"delta":{"content":"Sure"}}]}"#) == .event(.delta("Sure")))
    }

    enum ProviderEventSummary: Equatable {
        case text(String), reasoning(String), finish, end, other
        init(_ event: ProviderEvent) {
            switch event {
            case .delta(let text): self = .text(text)
            case .reasoning(let text): self = .reasoning(text)
            case .finish: self = .finish
            default: self = .other
            }
        }
    }
}
