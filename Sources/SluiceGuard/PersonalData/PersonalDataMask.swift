/// The placeholders of one upstream call: each personal detail found in the request's text replaced by a
/// placeholder of its kind (`[EMAIL_1]`, `[CARD_2]`), the same detail by the same placeholder wherever it appears,
/// so that the model can still tell two addresses apart and refer to each — and the answer, with the placeholders
/// the model wrote put back (`PlaceholderRestorer`), reads as if it had seen them.
///
/// A placeholder never collides with text the caller wrote: one that already appears in the request is skipped.
public struct PersonalDataMask: Sendable {
    /// Each placeholder and the detail it stands for.
    public private(set) var originals: [String: String] = [:]
    private var placeholders: [String: String] = [:]
    private var used: [PersonalDataKind: Int] = [:]
    /// Everything shaped like a placeholder (`[WORD_12]`) that the request already says.
    private let written: Set<String>

    /// - Parameter texts: everything the request carries, so that no placeholder repeats what it already says.
    public init(texts: [String] = []) {
        var written: Set<String> = []
        for text in texts { Self.collectPlaceholderShapes(in: text, into: &written) }
        self.written = written
    }

    private static func collectPlaceholderShapes(in text: String, into found: inout Set<String>) {
        let bytes = Array(text.utf8)
        var index = 0
        while let open = bytes[index...].firstIndex(of: UInt8(ascii: "[")) {
            var position = open + 1
            while position < bytes.count, PersonalDataFinder.isUpper(bytes[position]) { position += 1 }
            guard position > open + 1, position < bytes.count, bytes[position] == UInt8(ascii: "_") else {
                index = open + 1
                continue
            }
            position += 1
            let digits = position
            while position < bytes.count, PersonalDataFinder.isDigit(bytes[position]) { position += 1 }
            if position > digits, position < bytes.count, bytes[position] == UInt8(ascii: "]") {
                found.insert(String(decoding: bytes[open...position], as: UTF8.self))
            }
            index = open + 1
        }
    }

    /// How many different details of each kind were masked.
    public var counts: [PersonalDataKind: Int] {
        var counts: [PersonalDataKind: Int] = [:]
        for placeholder in originals.keys {
            if let kind = PersonalDataKind.allCases.first(where: { placeholder.hasPrefix("[\($0.placeholderWord)_") }) {
                counts[kind, default: 0] += 1
            }
        }
        return counts
    }

    public var isEmpty: Bool { originals.isEmpty }

    /// `text` with each personal detail replaced by its placeholder.
    public mutating func mask(_ text: String) -> String {
        let matches = PersonalDataFinder.matches(in: text)
        guard !matches.isEmpty else { return text }
        let bytes = Array(text.utf8)
        var masked: [UInt8] = []
        masked.reserveCapacity(bytes.count)
        var copied = 0
        for match in matches {
            masked += bytes[copied..<match.range.lowerBound]
            let detail = String(decoding: bytes[match.range], as: UTF8.self)
            masked += placeholder(for: detail, kind: match.kind).utf8
            copied = match.range.upperBound
        }
        masked += bytes[copied...]
        return String(decoding: masked, as: UTF8.self)
    }

    private mutating func placeholder(for detail: String, kind: PersonalDataKind) -> String {
        if let known = placeholders[detail] { return known }
        var number = used[kind, default: 0]
        var candidate: String
        repeat {
            number += 1
            candidate = "[\(kind.placeholderWord)_\(number)]"
        } while written.contains(candidate)
        used[kind] = number
        placeholders[detail] = candidate
        originals[candidate] = detail
        return candidate
    }
}
