/// tiktoken's pre-tokenisation: the regular expression that cuts text into pieces before byte-pair
/// merging, reproduced as hand-written scanners that give the same pieces as the Rust `fancy-regex`
/// engine tiktoken uses (leftmost-first alternation, greedy and possessive quantifiers, `(?!\S)`).
///
/// Each scanner returns where the piece that starts at scalar index `start` ends. The comments quote
/// the alternative of the original pattern each step implements, in the pattern's order.
enum SplitPattern: Sendable {
    /// `cl100k_base`:
    /// `'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s`
    case cl100k
    /// `o200k_base`:
    /// `[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?`
    /// `|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?`
    /// `|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    case o200k

    /// Calls `body` with the scalar range of every piece of `text`, in order.
    func forEachPiece(in text: ClassifiedText, _ body: (Range<Int>) -> Void) {
        text.classes.withUnsafeBufferPointer { classes in
            text.scalars.withUnsafeBufferPointer { scalars in
                let scanner = Scanner(classes: classes, scalars: scalars, count: text.count)
                var start = 0
                while start < text.count {
                    let end = self == .cl100k ? scanner.cl100kPiece(at: start) : scanner.o200kPiece(at: start)
                    body(start ..< end)
                    start = end
                }
            }
        }
    }
}

private struct Scanner {
    let classes: UnsafeBufferPointer<ScalarClass>
    let scalars: UnsafeBufferPointer<UInt32>
    let count: Int

    func cl100kPiece(at start: Int) -> Int {
        // '(?i:[sdmt]|ll|ve|re)
        if let end = contraction(at: start, singles: "sdmt") { return end }
        let first = classes[start]
        // [^\r\n\p{L}\p{N}]?+\p{L}++
        if first.contains(.letter) { return run(of: .letter, from: start) }
        if first.mayPrefixWord, classes[start + 1].contains(.letter) { return run(of: .letter, from: start + 1) }
        // \p{N}{1,3}+
        if first.contains(.number) { return digits(from: start) }
        // ' ?[^\s\p{L}\p{N}]++[\r\n]*+'
        if let end = punctuation(at: start, trailing: .lineBreak) { return end }
        // Only whitespace is left.
        let spaceEnd = run(of: .whitespace, from: start)
        // \s++$
        if spaceEnd == count { return count }
        // \s*[\r\n]
        if let end = throughLastLineBreak(from: start, to: spaceEnd) { return end }
        // \s+(?!\S), then \s
        return spaceEnd - start >= 2 ? spaceEnd - 1 : start + 1
    }

    func o200kPiece(at start: Int) -> Int {
        let first = classes[start]
        let hasPrefix = first.mayPrefixWord && start + 1 < count
        // [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(contraction)?
        if hasPrefix, let end = casedWordEndingLower(from: start + 1) { return end }
        if let end = casedWordEndingLower(from: start) { return end }
        // [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(contraction)?
        if hasPrefix, let end = casedWordStartingUpper(from: start + 1) { return end }
        if let end = casedWordStartingUpper(from: start) { return end }
        // \p{N}{1,3}
        if first.contains(.number) { return digits(from: start) }
        // ' ?[^\s\p{L}\p{N}]+[\r\n/]*'
        if let end = punctuation(at: start, trailing: [.lineBreak, .slash]) { return end }
        // Only whitespace is left.
        let spaceEnd = run(of: .whitespace, from: start)
        // \s*[\r\n]+
        if let end = throughLastLineBreak(from: start, to: spaceEnd) { return end }
        // \s+(?!\S)
        if spaceEnd == count { return count }
        // \s+ (a single character here: a longer run matched the alternative before)
        return spaceEnd - start >= 2 ? spaceEnd - 1 : start + 1
    }

    /// `U*L+` then an optional contraction, backtracking `U*` until `L+` can start.
    private func casedWordEndingLower(from start: Int) -> Int? {
        let upperEnd = run(of: .upperish, from: start)
        var lowerStart = upperEnd
        while lowerStart >= start {
            if classes[lowerStart].contains(.lowerish) {
                let end = run(of: .lowerish, from: lowerStart)
                return contraction(at: end, singles: "stmd") ?? end
            }
            lowerStart -= 1
        }
        return nil
    }

    /// `U+L*` then an optional contraction.
    private func casedWordStartingUpper(from start: Int) -> Int? {
        guard classes[start].contains(.upperish) else { return nil }
        let end = run(of: .lowerish, from: run(of: .upperish, from: start))
        return contraction(at: end, singles: "stmd") ?? end
    }

    /// An apostrophe followed, case-insensitively, by one of `singles` or by `ll`, `ve` or `re`.
    private func contraction(at start: Int, singles: StaticString) -> Int? {
        guard start + 1 < count, scalars[start] == 0x27 else { return nil }
        let next = Self.foldedCase(scalars[start + 1])
        let isSingle = singles.withUTF8Buffer { $0.contains { UInt32($0) == next } }
        if isSingle { return start + 2 }
        guard start + 2 < count else { return nil }
        let pair = (next, Self.foldedCase(scalars[start + 2]))
        switch pair {
        case (0x6C, 0x6C), (0x76, 0x65), (0x72, 0x65): return start + 3 // ll, ve, re
        default: return nil
        }
    }

    /// ` ?` then a run of punctuation, then any run of `trailing` characters.
    private func punctuation(at start: Int, trailing: ScalarClass) -> Int? {
        var position = start
        if scalars[start] == 0x20, start + 1 < count, classes[start + 1].isPunctuation { position += 1 }
        guard classes[position].isPunctuation else { return nil }
        while position < count, classes[position].isPunctuation { position += 1 }
        while position < count, !classes[position].isDisjoint(with: trailing) { position += 1 }
        return position
    }

    /// The end of the whitespace prefix `start ..< end` that stops right after its last line break.
    private func throughLastLineBreak(from start: Int, to end: Int) -> Int? {
        var position = end - 1
        while position >= start {
            if classes[position].contains(.lineBreak) { return position + 1 }
            position -= 1
        }
        return nil
    }

    private func digits(from start: Int) -> Int {
        var end = start
        while end < count, end - start < 3, classes[end].contains(.number) { end += 1 }
        return end
    }

    private func run(of flag: ScalarClass, from start: Int) -> Int {
        var end = start
        while end < count, classes[end].contains(flag) { end += 1 }
        return end
    }

    /// Simple case folding for the letters contractions use: ASCII upper case and `ſ` (U+017F), which
    /// folds to `s` under the Unicode rules the regex engine applies to `(?i:…)`.
    private static func foldedCase(_ scalar: UInt32) -> UInt32 {
        switch scalar {
        case 0x41 ... 0x5A: return scalar + 0x20
        case 0x17F: return 0x73
        default: return scalar
        }
    }
}
