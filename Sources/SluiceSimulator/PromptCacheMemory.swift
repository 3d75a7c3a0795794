import Synchronization

/// The simulator's prompt cache (`SimulatorSettings.promptCache`): like OpenAI's automatic caching or
/// llama-server's slot cache, a prompt that begins with an earlier request's whole prompt has that part read
/// from the cache. Prompts are remembered message by message, as hashes; the memory forgets everything once it
/// holds `capacity` prompts, so a long load run cannot grow it without bound.
final class PromptCacheMemory: Sendable {
    private let seen = Mutex<Set<Int>>([])
    private let capacity: Int

    init(capacity: Int = 100_000) {
        self.capacity = capacity
    }

    /// How many of the messages (in order) the cache already held, counting the longest earlier prompt this one
    /// begins with; remembers this prompt.
    func cachedMessages(_ messages: [(role: String, text: String)]) -> Int {
        var hasher = Hasher()
        var prefixes: [Int] = []
        prefixes.reserveCapacity(messages.count)
        for message in messages {
            hasher.combine(message.role)
            hasher.combine(message.text)
            var copy = hasher
            prefixes.append(copy.finalize())
        }
        guard let whole = prefixes.last else { return 0 }
        return seen.withLock { seen in
            // The prompt itself, when it was sent before, counts as read up to its last message: the reply's
            // start is computed anew, as every server does.
            let hit = prefixes.dropLast().lastIndex(where: seen.contains).map { $0 + 1 } ?? 0
            if seen.count >= capacity { seen.removeAll(keepingCapacity: true) }
            seen.insert(whole)
            return hit
        }
    }
}
