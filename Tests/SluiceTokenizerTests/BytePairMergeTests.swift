import Foundation
import Testing
@testable import SluiceTokenizer
import SluiceTestSupport

/// The heap-based merge (for long pieces) must make exactly the merges of tiktoken's scan.
struct BytePairMergeTests {
    /// Single bytes plus every string of 2–5 letters over `abc` with a shuffled rank: many competing
    /// merges, many ties broken by position.
    static let vocabulary: TokenVocabulary = {
        var generator = SeededGenerator(seed: 7)
        var strings: [[UInt8]] = []
        var frontier: [[UInt8]] = [[]]
        for _ in 2 ... 5 {
            frontier = frontier.flatMap { prefix in [UInt8]("abc".utf8).map { prefix + [$0] } }
            if frontier.first!.count >= 2 { strings += frontier.filter { _ in Int.random(in: 0 ..< 3, using: &generator) > 0 } }
        }
        // Seed the first level with pairs too, since `frontier` starts at length one.
        strings += [UInt8]("abc".utf8).flatMap { first in [UInt8]("abc".utf8).map { [first, $0] } }
        strings.shuffle(using: &generator)
        var pairs: [(rank: Int, bytes: [UInt8])] = (0 ..< 256).map { ($0, [UInt8($0)]) }
        var seen = Set<[UInt8]>()
        for string in strings where seen.insert(string).inserted { pairs.append((pairs.count, string)) }
        return TokenVocabulary(pairs: pairs, rankCount: pairs.count)
    }()

    @Test func heapAndScanAgreeOnRandomPieces() {
        var generator = SeededGenerator(seed: 42)
        for length in [2, 3, 7, 50, 97, 200, 1_000] {
            for _ in 0 ..< 40 {
                let piece = (0 ..< length).map { _ in [UInt8]("abcd".utf8).randomElement(using: &generator)! }
                piece.withUnsafeBufferPointer { bytes in
                    let scanned = BytePairMerge.mergeByScanning(bytes, vocabulary: Self.vocabulary)
                    let heaped = BytePairMerge.mergeWithHeap(bytes, vocabulary: Self.vocabulary)
                    #expect(scanned == heaped, "\(String(decoding: piece, as: UTF8.self))")
                    #expect(scanned.first == 0 && scanned.last == piece.count)
                }
            }
        }
    }

    @Test func aLongRepeatEndsWithNoMergeableNeighbours() {
        let piece = [UInt8]("ab".utf8) + [UInt8](repeating: UInt8(ascii: "a"), count: 10_000) + [UInt8]("cab".utf8)
        piece.withUnsafeBufferPointer { bytes in
            let boundaries = BytePairMerge.mergeWithHeap(bytes, vocabulary: Self.vocabulary)
            #expect(boundaries == BytePairMerge.mergeByScanning(bytes, vocabulary: Self.vocabulary))
            #expect(boundaries.count - 1 <= piece.count / 2 + 1, "\"aa\" is a token, so the run is merged in pairs at least")
            // Every part is a token, and no two neighbours join into one: BPE's fixed point.
            for index in 0 ..< boundaries.count - 1 {
                let part = UnsafeBufferPointer(rebasing: bytes[boundaries[index] ..< boundaries[index + 1]])
                #expect(Self.vocabulary.rank(of: part) != nil)
                if index + 2 < boundaries.count {
                    let joined = UnsafeBufferPointer(rebasing: bytes[boundaries[index] ..< boundaries[index + 2]])
                    #expect(Self.vocabulary.rank(of: joined) == nil)
                }
            }
        }
    }

    @Test func malformedVocabularyLinesAreReportedByNumber() {
        let file = Data("IQ== 0\nIg== 1\nnot-a-line\n".utf8)
        #expect(throws: TokenizerError.malformedVocabulary(line: 3)) { try TokenVocabulary(tiktokenFile: file) }
    }

    @Test func aMissingVocabularySaysHowToGetIt() {
        let folder = URL(fileURLWithPath: "/nonexistent-sluice-test")
        #expect(throws: TokenizerError.vocabularyNotFound(encoding: "o200k_base", path: "/nonexistent-sluice-test/fb374d419588a4632f3f557e76b4b70aebbca790")) {
            try BPETokenizer(encoding: .o200kBase, vocabularyDirectory: folder)
        }
        #expect(TokenizerError.vocabularyNotFound(encoding: "o200k_base", path: "/x").description.contains("SLUICE_TIKTOKEN_DIR"))
    }

    @Test func aTinyVocabularyEncodesAndDecodes() {
        let tokenizer = BPETokenizer(encoding: .cl100kBase, vocabulary: Self.vocabulary)
        let ids = tokenizer.encode("abcab cab")
        #expect(!ids.isEmpty)
        #expect(tokenizer.decode(ids) == "abcab cab")
        #expect(tokenizer.count("abcab cab") == ids.count)
    }
}
