/// Byte-pair merging of one piece, exactly as tiktoken does it: start from single bytes and merge,
/// again and again, the adjacent pair whose joined bytes have the lowest rank (the leftmost on a tie)
/// until no adjacent pair is a token.
///
/// Short pieces use tiktoken's own quadratic scan, which is fastest for them; long pieces (a run of
/// 50 000 identical letters is one piece) use a heap of candidate pairs, so work grows as n log n.
enum BytePairMerge {
    /// Pieces longer than this many bytes are merged with the heap.
    static let heapThreshold = 96

    /// Appends the tokens of `piece` to `tokens`.
    static func encode(_ piece: UnsafeBufferPointer<UInt8>, vocabulary: TokenVocabulary, into tokens: inout [Int]) {
        if let whole = vocabulary.rank(of: piece) {
            tokens.append(whole)
            return
        }
        let boundaries = piece.count > heapThreshold
            ? mergeWithHeap(piece, vocabulary: vocabulary)
            : mergeByScanning(piece, vocabulary: vocabulary)
        for index in 0 ..< boundaries.count - 1 {
            let part = UnsafeBufferPointer(rebasing: piece[boundaries[index] ..< boundaries[index + 1]])
            // Every single byte is a token, and every merge produced a token, so the lookup succeeds.
            tokens.append(vocabulary.rank(of: part)!)
        }
    }

    /// tiktoken's `_byte_pair_merge`: part starts, each with the rank of the pair that starts there.
    static func mergeByScanning(_ piece: UnsafeBufferPointer<UInt8>, vocabulary: TokenVocabulary) -> [Int] {
        let none = Int.max
        func rank(_ parts: [(start: Int, rank: Int)], _ index: Int) -> Int {
            guard index + 2 < parts.count else { return none }
            let bytes = UnsafeBufferPointer(rebasing: piece[parts[index].start ..< parts[index + 2].start])
            return vocabulary.rank(of: bytes) ?? none
        }
        var parts: [(start: Int, rank: Int)] = (0 ... piece.count).map { ($0, none) }
        for index in 0 ..< parts.count - 2 { parts[index].rank = rank(parts, index) }
        while parts.count > 2 {
            var best = none
            var bestIndex = 0
            for index in 0 ..< parts.count - 2 where parts[index].rank < best {
                best = parts[index].rank
                bestIndex = index
            }
            if best == none { break }
            parts.remove(at: bestIndex + 1)
            parts[bestIndex].rank = rank(parts, bestIndex)
            if bestIndex > 0 { parts[bestIndex - 1].rank = rank(parts, bestIndex - 1) }
        }
        return parts.map(\.start)
    }

    /// The same merges in the same order, found with a min-heap of `(rank, start)` candidates.
    /// Candidates go stale when a neighbour merges; a popped one is used only if it is still current.
    static func mergeWithHeap(_ piece: UnsafeBufferPointer<UInt8>, vocabulary: TokenVocabulary) -> [Int] {
        let count = piece.count
        // Parts are named by their first byte's index; `next[i]` is where the part after `i` starts.
        var next = Array(1 ... count)
        var previous = Array(-1 ..< count - 1)
        var alive = [Bool](repeating: true, count: count)
        var pairRank = [Int](repeating: Int.max, count: count)
        var heap = MinHeap()

        func refresh(_ start: Int) {
            let second = next[start]
            guard second < count else {
                pairRank[start] = Int.max
                return
            }
            let bytes = UnsafeBufferPointer(rebasing: piece[start ..< next[second]])
            let rank = vocabulary.rank(of: bytes) ?? Int.max
            pairRank[start] = rank
            if rank != Int.max { heap.push(rank: rank, start: start) }
        }

        for start in 0 ..< count { refresh(start) }
        while let (rank, start) = heap.pop() {
            guard alive[start], pairRank[start] == rank else { continue }
            let removed = next[start]
            alive[removed] = false
            next[start] = next[removed]
            if next[removed] < count { previous[next[removed]] = start }
            refresh(start)
            if previous[start] >= 0 { refresh(previous[start]) }
        }
        var boundaries: [Int] = []
        var start = 0
        while start < count {
            boundaries.append(start)
            start = next[start]
        }
        boundaries.append(count)
        return boundaries
    }
}

/// A binary min-heap of `(rank, start)` pairs ordered by rank, then by start (leftmost first).
private struct MinHeap {
    private var keys: [UInt64] = []

    mutating func push(rank: Int, start: Int) {
        keys.append(UInt64(rank) << 32 | UInt64(start))
        var child = keys.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard keys[child] < keys[parent] else { break }
            keys.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> (rank: Int, start: Int)? {
        guard let top = keys.first else { return nil }
        let last = keys.removeLast()
        if !keys.isEmpty {
            keys[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var smallest = parent
                if left < keys.count, keys[left] < keys[smallest] { smallest = left }
                if right < keys.count, keys[right] < keys[smallest] { smallest = right }
                if smallest == parent { break }
                keys.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return (Int(top >> 32), Int(top & 0xFFFF_FFFF))
    }
}
