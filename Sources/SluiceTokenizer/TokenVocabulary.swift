import Foundation

/// The byte sequences of a byte-pair-encoding vocabulary and their ranks, loaded from a tiktoken
/// `.tiktoken` file (one `base64 rank` pair per line).
///
/// Lookups take a slice of bytes and never allocate: every token's bytes live in one buffer and an
/// open-addressing table maps a hash of the bytes to the rank. Ranks double as token ids.
public struct TokenVocabulary: Sendable {
    /// All tokens' bytes back to back, in rank order.
    private let bytes: [UInt8]
    /// `offsets[rank] ..< offsets[rank + 1]` are the bytes of `rank`; ranks that the file skips are empty.
    private let offsets: [Int32]
    /// Open-addressing table of ranks (`-1` is an empty slot); its size is a power of two.
    private let slots: [Int32]

    /// How many ranks the vocabulary spans (the largest rank plus one).
    public var rankCount: Int { offsets.count - 1 }

    /// Parses a `.tiktoken` file's contents.
    public init(tiktokenFile data: Data) throws(TokenizerError) {
        var pairs: [(rank: Int, bytes: [UInt8])] = []
        pairs.reserveCapacity(200_000)
        var maximumRank = -1
        for (lineNumber, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() where !line.isEmpty {
            guard let space = line.firstIndex(of: UInt8(ascii: " ")),
                  let token = Data(base64Encoded: Data(line[line.startIndex ..< space])),
                  let rank = Int(String(decoding: line[(space + 1)...], as: UTF8.self)), rank >= 0
            else { throw .malformedVocabulary(line: lineNumber + 1) }
            pairs.append((rank, [UInt8](token)))
            maximumRank = max(maximumRank, rank)
        }
        guard maximumRank >= 0 else { throw .malformedVocabulary(line: 0) }
        self.init(pairs: pairs, rankCount: maximumRank + 1)
    }

    /// Builds a vocabulary from `(rank, bytes)` pairs; used by the loader and by tests with tiny vocabularies.
    public init(pairs: [(rank: Int, bytes: [UInt8])], rankCount: Int) {
        var tokenBytes = [[UInt8]](repeating: [], count: rankCount)
        for pair in pairs { tokenBytes[pair.rank] = pair.bytes }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(pairs.reduce(0) { $0 + $1.bytes.count })
        var offsets: [Int32] = [0]
        offsets.reserveCapacity(rankCount + 1)
        for token in tokenBytes {
            buffer.append(contentsOf: token)
            offsets.append(Int32(buffer.count))
        }
        var capacity = 1
        while capacity < rankCount * 2 { capacity <<= 1 }
        var slots = [Int32](repeating: -1, count: capacity)
        let mask = capacity - 1
        buffer.withUnsafeBufferPointer { all in
            for rank in 0 ..< rankCount where offsets[rank + 1] > offsets[rank] {
                let token = UnsafeBufferPointer(rebasing: all[Int(offsets[rank]) ..< Int(offsets[rank + 1])])
                var slot = Self.hash(token) & mask
                while slots[slot] >= 0 { slot = (slot + 1) & mask }
                slots[slot] = Int32(rank)
            }
        }
        self.bytes = buffer
        self.offsets = offsets
        self.slots = slots
    }

    /// The rank of exactly these bytes, or `nil` when they are not one token.
    public func rank(of token: UnsafeBufferPointer<UInt8>) -> Int? {
        let mask = slots.count - 1
        var slot = Self.hash(token) & mask
        return slots.withUnsafeBufferPointer { slots in
            offsets.withUnsafeBufferPointer { offsets in
                bytes.withUnsafeBufferPointer { all in
                    while true {
                        let rank = Int(slots[slot])
                        if rank < 0 { return nil }
                        let start = Int(offsets[rank]), end = Int(offsets[rank + 1])
                        if end - start == token.count,
                           memcmp(all.baseAddress! + start, token.baseAddress!, token.count) == 0 {
                            return rank
                        }
                        slot = (slot + 1) & mask
                    }
                }
            }
        }
    }

    /// The bytes of a rank (empty for a rank the vocabulary does not define).
    public func bytes(of rank: Int) -> ArraySlice<UInt8> {
        guard rank >= 0, rank < rankCount else { return [] }
        return bytes[Int(offsets[rank]) ..< Int(offsets[rank + 1])]
    }

    /// FNV-1a over the bytes: cheap for the short slices BPE looks up.
    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return Int(truncatingIfNeeded: hash ^ (hash >> 29))
    }
}

/// Why a tokenizer could not be built.
public enum TokenizerError: Error, Equatable, CustomStringConvertible {
    case malformedVocabulary(line: Int)
    case vocabularyNotFound(encoding: String, path: String)

    public var description: String {
        switch self {
        case .malformedVocabulary(let line):
            return "the vocabulary file is malformed at line \(line) (expected `base64 rank`)"
        case .vocabularyNotFound(let encoding, let path):
            return "the \(encoding) vocabulary was not found at \(path); run ./sluice.sh run or set SLUICE_TIKTOKEN_DIR"
        }
    }
}
