import Foundation

/// A message in the three forms the guard's rules look at. Each form undoes a kind of obfuscation, so that a
/// rule written once for plain text also catches its disguised spellings.
public struct NormalizedText: Sendable, Equatable {
    /// Unicode NFKC, invisible format characters (zero-width, bidi controls, soft hyphen) removed, lower case,
    /// accents removed, look-alike letters in mixed-script words folded to Latin. Punctuation and line breaks
    /// are kept, so role markers such as `<|im_start|>system` or `### System:` stay recognisable.
    public var plain: String
    /// `plain` with leetspeak undone in words that mix letters and digits (`1gn0r3` → `ignore`), every run of
    /// punctuation and spaces turned into one space, and runs of letters spelled out one by one joined again
    /// (`i g n o r e` → `ignore`).
    public var words: String
    /// `words` with everything but letters and digits removed (`i.g.n.o.r.e all-previous` → `ignoreallprevious`):
    /// catches any spacing or punctuation put between letters.
    public var squashed: String
}

/// Undoes the usual disguises of a prompt-injection attempt before rules are matched.
public enum GuardNormalizer {
    public static func normalize(_ text: String) -> NormalizedText {
        let plain = plainForm(text)
        let words = wordsForm(plain)
        let squashed = String(String.UnicodeScalarView(words.unicodeScalars.filter { isLetterOrDigit($0) }))
        return NormalizedText(plain: plain, words: words, squashed: squashed)
    }

    /// NFKC, format characters removed, lower case, accents removed, confusables folded.
    public static func plainForm(_ text: String) -> String {
        // ASCII has no compatibility forms, format characters, accents or look-alikes: only the case changes.
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text.lowercased() }
        return unicodePlainForm(text)
    }

    /// `plainForm` for any text, step by step.
    static func unicodePlainForm(_ text: String) -> String {
        let compatible = text.precomposedStringWithCompatibilityMapping
        let visible = String.UnicodeScalarView(compatible.unicodeScalars.filter { $0.properties.generalCategory != .format })
        let lowered = String(visible).lowercased()
        // Accents: decompose, drop the combining marks, compose again.
        let unaccented = String.UnicodeScalarView(
            lowered.decomposedStringWithCanonicalMapping.unicodeScalars.filter {
                $0.properties.generalCategory != .nonspacingMark
            })
        return foldConfusables(String(unaccented).precomposedStringWithCanonicalMapping)
    }

    /// Folds Cyrillic and Greek look-alikes to Latin inside words that are written to look Latin: a word that
    /// mixes Latin letters with look-alikes (`іgnоre`), or one made only of look-alikes. Words in a real
    /// Cyrillic or Greek sentence keep their letters, so rules in those languages still match.
    static func foldConfusables(_ text: String) -> String {
        var result = String.UnicodeScalarView()
        var word: [Unicode.Scalar] = []
        func flush() {
            guard !word.isEmpty else { return }
            let hasLatin = word.contains { $0.isASCII && $0.properties.isAlphabetic }
            let allConfusable = word.allSatisfy { confusables[$0] != nil || ($0.isASCII && $0.properties.isAlphabetic) }
            let fold = hasLatin || allConfusable
            for scalar in word { result.append(fold ? (confusables[scalar] ?? scalar) : scalar) }
            word.removeAll(keepingCapacity: true)
        }
        for scalar in text.unicodeScalars {
            if isLetter(scalar) { word.append(scalar) } else {
                flush()
                result.append(scalar)
            }
        }
        flush()
        return String(result)
    }

    /// Lower-case Cyrillic and Greek letters that look like Latin ones (after the text was lower-cased).
    static let confusables: [Unicode.Scalar: Unicode.Scalar] = [
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t",
        "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ɡ": "g", "һ": "h", "ԛ": "q", "ԝ": "w",
        "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x",
        "ı": "i", "ɩ": "i", "ℓ": "l",
    ]

    /// Digits and signs that stand for letters in leetspeak.
    static let leet: [Unicode.Scalar: Unicode.Scalar] = [
        "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s", "!": "i", "|": "l",
    ]

    static func isLetterOrDigit(_ scalar: Unicode.Scalar) -> Bool {
        isLetter(scalar) || isNumeric(scalar)
    }

    /// Unicode's Alphabetic property, answered without the property tables for ASCII (the common case).
    static func isLetter(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return (0x61...0x7A).contains(scalar.value | 0x20) }
        return scalar.properties.isAlphabetic
    }

    /// Whether the scalar has a Unicode numeric type (in ASCII: the digits).
    static func isNumeric(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return (0x30...0x39).contains(scalar.value) }
        return scalar.properties.numericType != nil
    }

    /// Leetspeak undone, punctuation collapsed to single spaces, spelled-out letters joined.
    static func wordsForm(_ plain: String) -> String {
        var words: [String] = []
        // Runs of one-letter chunks (`i g n o r e`) are joined; two or more spaces end a spelled-out word.
        var letterRun: [String] = []
        func endRun() {
            if letterRun.count >= 3 { words.append(letterRun.joined()) } else { words.append(contentsOf: letterRun) }
            letterRun.removeAll()
        }
        var previousEnd = plain.startIndex
        for chunk in plain.split(whereSeparator: { $0.isWhitespace }) {
            if plain[previousEnd..<chunk.startIndex].count >= 2 { endRun() }
            previousEnd = chunk.endIndex
            let pieces = piecesOf(chunk)
            // `i.g.n.o.r.e`, `ig-no-re`: a chunk cut into pieces of one or two letters is one word.
            if pieces.count >= 2, pieces.allSatisfy({ $0.count <= 2 }) {
                endRun()
                words.append(pieces.joined())
            } else if pieces.count == 1, pieces[0].count == 1 {
                letterRun.append(pieces[0])
            } else {
                endRun()
                words.append(contentsOf: pieces)
            }
        }
        endRun()
        return words.joined(separator: " ")
    }

    /// One whitespace-separated chunk as words of letters and digits, leetspeak undone.
    static func piecesOf(_ chunk: Substring) -> [String] {
        let scalars = Array(chunk.unicodeScalars)
        let hasLetter = scalars.contains(where: isLetter)
        let leetCount = scalars.filter { leet[$0] != nil }.count
        // A word of letters with a leet sign in it, or a word written entirely in leet (`1337`, `7h3`).
        let decode = leetCount > 0 && (hasLetter || leetCount >= 3)
        var pieces: [String] = []
        var current = String.UnicodeScalarView()
        for (index, scalar) in scalars.enumerated() {
            var mapped = scalar
            // Digits stand for letters; a sign does only when the word goes on after it (`p@ss`, not `now!`).
            if decode, let letter = leet[scalar],
                isNumeric(scalar) || scalars[(index + 1)...].contains(where: isLetterOrDigit)
            {
                mapped = letter
            }
            if isLetterOrDigit(mapped) {
                current.append(mapped)
            } else if !current.isEmpty {
                pieces.append(String(current))
                current = String.UnicodeScalarView()
            }
        }
        if !current.isEmpty { pieces.append(String(current)) }
        return pieces
    }
}
