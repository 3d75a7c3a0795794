import Synchronization

/// The simulator's prompt cache (`SimulatorSettings.promptCache`). OpenAI and llama-server cache every prompt: a
/// prompt that begins with an earlier request's whole prompt has that part read from the cache. Anthropic caches
/// only up to the blocks a request marks with `cache_control`, and reads the longest marked prefix it has seen.
/// Prompts are remembered message by message, as hashes of their prefixes; the memory forgets everything once it
/// holds `capacity` of them, so that a long load run cannot grow it without bound.
final class PromptCacheMemory: Sendable {
    private let seen = Mutex<Set<Int>>([])
    private let capacity: Int

    init(capacity: Int = 100_000) {
        self.capacity = capacity
    }

    /// How many of the first messages (at most `readableUpTo`) the cache holds, as the longest remembered prefix;
    /// then remembers the prefixes of each length in `remembering`.
    func lookUp(_ messages: [(role: String, text: String)], readableUpTo limit: Int, remembering lengths: [Int]) -> Int {
        var hasher = Hasher()
        var prefixes: [Int] = []
        prefixes.reserveCapacity(messages.count)
        for message in messages {
            hasher.combine(message.role)
            hasher.combine(message.text)
            let copy = hasher
            prefixes.append(copy.finalize())
        }
        return seen.withLock { seen in
            let hit = prefixes.prefix(max(limit, 0)).lastIndex(where: seen.contains).map { $0 + 1 } ?? 0
            if seen.count + lengths.count > capacity { seen.removeAll(keepingCapacity: true) }
            for length in lengths where (1...prefixes.count).contains(length) { seen.insert(prefixes[length - 1]) }
            return hit
        }
    }

    /// OpenAI's and llama-server's rule: the longest earlier whole prompt this one begins with (the prompt itself,
    /// sent again, counts as read but for its last message: the reply's start is computed anew); remembers it.
    func cachedMessages(_ messages: [(role: String, text: String)]) -> Int {
        lookUp(messages, readableUpTo: messages.count - 1, remembering: [messages.count])
    }
}
