import Foundation
import SluiceCore

/// The tiktoken encodings Sluice can load, with their vocabulary files, patterns and special tokens.
public enum Encoding: String, Sendable, CaseIterable {
    case cl100kBase = "cl100k_base"
    case o200kBase = "o200k_base"

    /// The vocabulary's file name in tiktoken's cache (and in litellm's wheel): the SHA-1 of its URL.
    public var vocabularyFileName: String {
        switch self {
        case .cl100kBase: return "9b5ad71b2ce5302211f9c61530b329a4922fc6a4"
        case .o200kBase: return "fb374d419588a4632f3f557e76b4b70aebbca790"
        }
    }

    /// The special tokens and their ids, as tiktoken defines them for this encoding.
    public var specialTokens: [String: Int] {
        switch self {
        case .cl100kBase:
            return ["<|endoftext|>": 100_257, "<|fim_prefix|>": 100_258, "<|fim_middle|>": 100_259,
                    "<|fim_suffix|>": 100_260, "<|endofprompt|>": 100_276]
        case .o200kBase:
            return ["<|endoftext|>": 199_999, "<|endofprompt|>": 200_018]
        }
    }

    var pattern: SplitPattern {
        switch self {
        case .cl100kBase: return .cl100k
        case .o200kBase: return .o200k
        }
    }
}

/// A byte-pair-encoding tokenizer that gives the same token ids as tiktoken for `cl100k_base` and
/// `o200k_base`: the same pre-tokenisation, the same merges, the same special tokens.
public struct BPETokenizer: Tokenizer {
    public let encoding: Encoding
    private let vocabulary: TokenVocabulary
    private let specials: [(text: [UInt8], id: Int)]

    public init(encoding: Encoding, vocabulary: TokenVocabulary) {
        self.encoding = encoding
        self.vocabulary = vocabulary
        self.specials = encoding.specialTokens.map { ([UInt8]($0.key.utf8), $0.value) }.sorted { $0.id < $1.id }
    }

    /// Loads the encoding's vocabulary from a folder holding tiktoken's cache files.
    public init(encoding: Encoding, vocabularyDirectory: URL) throws(TokenizerError) {
        let file = vocabularyDirectory.appendingPathComponent(encoding.vocabularyFileName)
        guard let data = try? Data(contentsOf: file) else {
            throw .vocabularyNotFound(encoding: encoding.rawValue, path: file.path)
        }
        self.init(encoding: encoding, vocabulary: try TokenVocabulary(tiktokenFile: data))
    }

    /// The tokens of `text`, treating text that looks like a special token as ordinary text
    /// (tiktoken's `encode_ordinary`): what users type can never smuggle in a control token.
    public func encode(_ text: String) -> [Int] {
        var tokens: [Int] = []
        tokens.reserveCapacity(text.utf8.count / 3)
        encodeOrdinary(text[...], into: &tokens)
        return tokens
    }

    /// The tokens of `text` where special-token text becomes the special token
    /// (tiktoken's `encode(text, allowed_special="all")`), as in a rendered chat template.
    public func encodeAllowingSpecialTokens(_ text: String) -> [Int] {
        var tokens: [Int] = []
        let utf8 = Array(text.utf8)
        var segmentStart = 0
        var position = 0
        while position < utf8.count {
            if utf8[position] == UInt8(ascii: "<"),
               let special = specials.first(where: { utf8[position...].starts(with: $0.text) }) {
                encodeOrdinary(Substring(decoding: utf8[segmentStart ..< position], as: UTF8.self), into: &tokens)
                tokens.append(special.id)
                position += special.text.count
                segmentStart = position
            } else {
                position += 1
            }
        }
        encodeOrdinary(Substring(decoding: utf8[segmentStart...], as: UTF8.self), into: &tokens)
        return tokens
    }

    public func count(_ text: String) -> Int {
        encode(text).count
    }

    /// The text of `tokens` (invalid UTF-8, from a token cut mid-character, becomes U+FFFD).
    public func decode(_ tokens: [Int]) -> String {
        var bytes: [UInt8] = []
        for token in tokens {
            if let special = specials.first(where: { $0.id == token }) {
                bytes.append(contentsOf: special.text)
            } else {
                bytes.append(contentsOf: vocabulary.bytes(of: token))
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private func encodeOrdinary(_ text: Substring, into tokens: inout [Int]) {
        guard !text.isEmpty else { return }
        let classified = ClassifiedText(text.unicodeScalars)
        let utf8 = Array(text.utf8)
        utf8.withUnsafeBufferPointer { bytes in
            encoding.pattern.forEachPiece(in: classified) { scalars in
                let piece = classified.byteOffsets[scalars.lowerBound] ..< classified.byteOffsets[scalars.upperBound]
                BytePairMerge.encode(UnsafeBufferPointer(rebasing: bytes[piece]), vocabulary: vocabulary, into: &tokens)
            }
        }
    }
}
