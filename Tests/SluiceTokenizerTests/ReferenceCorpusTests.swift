import Foundation
import Testing
import SluiceTokenizer

/// Compares Sluice's token ids with tiktoken's, id by id, on the corpus that
/// `Tests/tokenizer/reference.py` builds (the test script writes it with the real `tiktoken` package
/// and points `SLUICE_TOKENIZER_REFERENCE` at it; the vocabularies come from `SLUICE_TIKTOKEN_DIR`).
@Suite(.enabled(if: ReferenceCorpus.isAvailable, "set SLUICE_TOKENIZER_REFERENCE and SLUICE_TIKTOKEN_DIR (./sluice.sh test does)"))
struct ReferenceCorpusTests {
    @Test(arguments: Encoding.allCases)
    func tokenIdsEqualTiktokensOnEveryText(encoding: Encoding) throws {
        let tokenizer = try BPETokenizer(encoding: encoding, vocabularyDirectory: ReferenceCorpus.vocabularyDirectory)
        let corpus = try ReferenceCorpus.load()
        #expect(corpus.count >= 500)
        var mismatches: [String] = []
        var compared = 0
        for record in corpus {
            guard let expected = record.ids[encoding.rawValue] else { continue }
            compared += 1
            let actual = tokenizer.encode(record.text)
            if actual != expected { mismatches.append(Self.describe(record, actual, expected)) }
            if let expectedSpecial = record.ids[encoding.rawValue + "_special"] {
                let actualSpecial = tokenizer.encodeAllowingSpecialTokens(record.text)
                if actualSpecial != expectedSpecial {
                    mismatches.append("[special] " + Self.describe(record, actualSpecial, expectedSpecial))
                }
            }
        }
        #expect(compared == corpus.count)
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(compared) texts differ:\n\(mismatches.prefix(10).joined(separator: "\n"))")
    }

    @Test(arguments: Encoding.allCases)
    func decodingTheTokensGivesTheTextBack(encoding: Encoding) throws {
        let tokenizer = try BPETokenizer(encoding: encoding, vocabularyDirectory: ReferenceCorpus.vocabularyDirectory)
        for record in try ReferenceCorpus.load() {
            #expect(tokenizer.decode(tokenizer.encode(record.text)) == record.text, "\(record.name)")
        }
    }

    private static func describe(_ record: ReferenceCorpus.Record, _ actual: [Int], _ expected: [Int]) -> String {
        let shorter = min(actual.count, expected.count)
        let index = (0 ..< shorter).first { actual[$0] != expected[$0] } ?? shorter
        let window = max(0, index - 3) ..< index + 4
        return "\(record.name): first difference at token \(index) of \(expected.count): "
            + "sluice \(Array(actual[window.clamped(to: 0 ..< actual.count)])) "
            + "tiktoken \(Array(expected[window.clamped(to: 0 ..< expected.count)]))"
    }
}

enum ReferenceCorpus {
    /// One line of the reference file. (JSONDecoder, not JSONSerialization: the latter drops U+FEFF.)
    struct Record: Decodable {
        let name: String
        let text: String
        let cl100k_base: [Int]?
        let o200k_base: [Int]?
        let cl100k_base_special: [Int]?
        let o200k_base_special: [Int]?

        var ids: [String: [Int]] {
            ["cl100k_base": cl100k_base, "o200k_base": o200k_base,
             "cl100k_base_special": cl100k_base_special, "o200k_base_special": o200k_base_special].compactMapValues { $0 }
        }
    }

    static let environment = ProcessInfo.processInfo.environment
    static var isAvailable: Bool {
        environment["SLUICE_TOKENIZER_REFERENCE"] != nil && environment["SLUICE_TIKTOKEN_DIR"] != nil
    }
    static var vocabularyDirectory: URL { URL(fileURLWithPath: environment["SLUICE_TIKTOKEN_DIR"] ?? "") }

    static func load() throws -> [Record] {
        let data = try Data(contentsOf: URL(fileURLWithPath: environment["SLUICE_TOKENIZER_REFERENCE"] ?? ""))
        let decoder = JSONDecoder()
        return try data.split(separator: UInt8(ascii: "\n")).map { try decoder.decode(Record.self, from: Data($0)) }
    }
}
