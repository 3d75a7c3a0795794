import SluiceCore
import SluiceTokenizer
import Synchronization
import Testing

@Suite("Count cache")
struct CountCachingTokenizerTests {
    /// One token per byte; records every text it counts.
    final class ByteTokenizer: Tokenizer {
        let counted = Mutex<[String]>([])
        func encode(_ text: String) -> [Int] { text.utf8.map(Int.init) }
        func count(_ text: String) -> Int {
            counted.withLock { $0.append(text) }
            return text.utf8.count
        }
    }

    static func text(_ index: Int, bytes: Int = 300) -> String {
        let head = "message \(index): "
        return head + String(repeating: "x", count: bytes - head.utf8.count)
    }

    @Test("a long text is counted by the tokenizer once, a short one every time; the counts are the tokenizer's")
    func countsOnce() {
        let base = ByteTokenizer()
        let cached = CountCachingTokenizer(base, minimumBytes: 256)
        let long = Self.text(1)
        #expect(cached.count(long) == long.utf8.count)
        #expect(cached.count(long) == long.utf8.count)
        #expect(cached.count("short") == 5)
        #expect(cached.count("short") == 5)
        // The same text in another String instance is found too: the key is the text, not the object.
        #expect(cached.count(String(long.reversed().reversed())) == long.utf8.count)
        #expect(base.counted.withLock { $0 } == [long, "short", "short"])
        #expect(cached.encode("ab") == [97, 98])
    }

    @Test("it holds at most its capacity in text; what is used again stays, what is not is dropped")
    func bounded() {
        let base = ByteTokenizer()
        // Generations of 1 500 bytes: five 300-byte texts each.
        let cached = CountCachingTokenizer(base, capacityBytes: 3000, minimumBytes: 256)
        for index in 0..<40 {
            _ = cached.count(Self.text(index))
            _ = cached.count(Self.text(0))  // used all the time
            #expect(cached.held.bytes <= 3000)
        }
        base.counted.withLock { $0.removeAll() }
        _ = cached.count(Self.text(0))
        _ = cached.count(Self.text(39))
        _ = cached.count(Self.text(1))
        // The text in use and the newest were kept; an early one was dropped and is counted again.
        #expect(base.counted.withLock { $0 } == [Self.text(1)])
        // A text larger than a generation is never kept.
        let huge = String(repeating: "y", count: 2000)
        _ = cached.count(huge)
        _ = cached.count(huge)
        #expect(base.counted.withLock { $0 }.filter { $0 == huge }.count == 2)
    }
}
