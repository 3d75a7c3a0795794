import SluiceCore
import Synchronization

/// Remembers the token counts of long texts, so that a conversation sent again — an OpenAI client sends the
/// whole history with every call, and each turn of the web app counts its context — is counted once: later
/// turns pay only for their new messages. The key is the text itself (exact: no hash collisions), so a
/// cached count is always the count the wrapped tokenizer would give.
///
/// Bounded by the bytes of the texts it holds: two generations, the current one filled until it holds
/// `capacityBytes / 2`, then it becomes the previous one and the oldest generation is dropped; a text found
/// in the previous generation moves to the current one (an approximate LRU without per-entry bookkeeping).
public struct CountCachingTokenizer: Tokenizer {
    public let base: any Tokenizer
    /// Texts shorter than this (in UTF-8 bytes) are counted each time: cheaper than keeping them.
    public let minimumBytes: Int
    private let cache: Generations

    public init(_ base: any Tokenizer, capacityBytes: Int = 16 << 20, minimumBytes: Int = 256) {
        self.base = base
        self.minimumBytes = minimumBytes
        cache = Generations(limit: max(1, capacityBytes / 2))
    }

    public func encode(_ text: String) -> [Int] { base.encode(text) }

    public func count(_ text: String) -> Int {
        guard text.utf8.count >= minimumBytes else { return base.count(text) }
        if let known = cache.lookUp(text) { return known }
        let counted = base.count(text)
        cache.store(text, counted)
        return counted
    }

    /// Texts held and their bytes, for tests and metrics.
    public var held: (texts: Int, bytes: Int) { cache.held }

    /// The two generations behind one lock; counting happens outside it.
    private final class Generations: Sendable {
        private struct State {
            var current: [String: Int] = [:]
            var previous: [String: Int] = [:]
            var currentBytes = 0
            var previousBytes = 0
        }
        private let state = Mutex(State())
        private let limit: Int

        init(limit: Int) { self.limit = limit }

        func lookUp(_ text: String) -> Int? {
            state.withLock { state in
                if let count = state.current[text] { return count }
                guard let count = state.previous.removeValue(forKey: text) else { return nil }
                state.previousBytes -= text.utf8.count
                Self.add(text, count, to: &state, limit: limit)
                return count
            }
        }

        func store(_ text: String, _ count: Int) {
            state.withLock { state in
                guard state.current[text] == nil else { return }
                Self.add(text, count, to: &state, limit: limit)
            }
        }

        var held: (texts: Int, bytes: Int) {
            state.withLock { ($0.current.count + $0.previous.count, $0.currentBytes + $0.previousBytes) }
        }

        private static func add(_ text: String, _ count: Int, to state: inout State, limit: Int) {
            let bytes = text.utf8.count
            // A text larger than a whole generation is not kept: it would push everything else out.
            guard bytes <= limit else { return }
            if state.currentBytes + bytes > limit {
                state.previous = state.current
                state.previousBytes = state.currentBytes
                state.current = [:]
                state.currentBytes = 0
            }
            state.current[text] = count
            state.currentBytes += bytes
        }
    }
}
