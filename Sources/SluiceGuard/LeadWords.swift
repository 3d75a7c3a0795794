/// The words a `words` pattern can begin with, when its start is plain enough to tell: `\b(ignore|stop following)\b…`
/// begins with `ignore` or `stop`, each a whole word. A text none of whose words is one of them cannot match the
/// pattern, which then need not run — most messages contain none of the rules' first words, and one regular
/// expression costs a few microseconds even on a short text.
///
/// Only ASCII texts take the shortcut: matching ignores case, and case folding maps a few non-ASCII letters to
/// ASCII ones (`ſ` matches `s`), which a comparison of words would miss.
struct LeadWords: Sendable, Equatable {
    let words: Set<String>

    /// `nil` when the pattern does not begin with a word boundary and then plain lowercase ASCII words (or a group
    /// of alternatives that each do), each first word ending at a space or a word boundary.
    init?(pattern: String) {
        var rest = Substring(pattern)
        guard rest.hasPrefix("\\b") else { return nil }
        rest = rest.dropFirst(2)
        guard rest.first == "(" else {
            guard let word = Self.firstWord(of: rest, endsAtBoundary: false) else { return nil }
            words = [word]
            return
        }
        guard let (alternatives, after) = Self.group(rest), !after.hasPrefix("?"), !after.hasPrefix("*"),
            !after.hasPrefix("{")
        else { return nil }
        // A one-word alternative ends where the group does: that must be a word's end too (the pattern's own end
        // is not one: `\b(ign)` matches the start of "ignore").
        let groupEndsWord = after.hasPrefix("\\b") || Self.startsWithPlainSpace(after)
        var words: Set<String> = []
        for alternative in alternatives {
            guard let word = Self.firstWord(of: alternative, endsAtBoundary: groupEndsWord) else { return nil }
            words.insert(word)
        }
        self.words = words
    }

    /// Whether the pattern may match a text made of `tokens` (`tokens(of:)`).
    func mayMatch(_ tokens: Set<Substring>) -> Bool {
        words.contains { tokens.contains(Substring($0)) }
    }

    /// The whole words of an ASCII text: its longest runs of letters, digits and `_` (what `\b` separates);
    /// `nil` for a text with any other character outside ASCII.
    static func tokens(of text: String) -> Set<Substring>? {
        guard text.utf8.allSatisfy({ $0 < 0x80 }) else { return nil }
        var tokens: Set<Substring> = []
        var start: String.Index?
        var index = text.startIndex
        while index < text.endIndex {
            let byte = text.utf8[index]
            let isWord = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || byte == 0x5F
            if isWord, start == nil { start = index }
            if !isWord, let begun = start {
                tokens.insert(text[begun..<index].lowercased()[...])
                start = nil
            }
            index = text.utf8.index(after: index)
        }
        if let begun = start { tokens.insert(text[begun...].lowercased()[...]) }
        return tokens
    }

    /// The first word of `text` if it is lowercase ASCII letters and digits followed by an unquantified space, `\b`,
    /// or (when `endsAtBoundary`: the group around it ends a word) nothing.
    private static func firstWord(of text: Substring, endsAtBoundary: Bool) -> String? {
        let word = text.prefix { $0.isASCII && ($0.isLowercase || $0.isNumber) }
        guard !word.isEmpty else { return nil }
        let after = text[word.endIndex...]
        if after.isEmpty { return endsAtBoundary ? String(word) : nil }
        return after.hasPrefix("\\b") || startsWithPlainSpace(after) ? String(word) : nil
    }

    /// A space that is not made optional or repeated (`pre ?prompt` may have no space).
    private static func startsWithPlainSpace(_ text: Substring) -> Bool {
        guard text.first == " " else { return false }
        guard let next = text.dropFirst().first else { return true }
        return !"?*+{".contains(next)
    }

    /// The top-level alternatives of the group `text` starts with, and what follows the group; `nil` for a special
    /// group (`(?…`) or one that does not close.
    private static func group(_ text: Substring) -> (alternatives: [Substring], after: Substring)? {
        guard text.first == "(", text.dropFirst().first != "?" else { return nil }
        var depth = 0
        var inClass = false
        var alternativeStart = text.index(after: text.startIndex)
        var alternatives: [Substring] = []
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character == "\\" {
                index = text.index(after: index)
                if index < text.endIndex { index = text.index(after: index) }
                continue
            }
            switch character {
            case "[" where !inClass: inClass = true
            case "]" where inClass: inClass = false
            case "(" where !inClass: depth += 1
            case "|" where !inClass && depth == 1:
                alternatives.append(text[alternativeStart..<index])
                alternativeStart = text.index(after: index)
            case ")" where !inClass:
                depth -= 1
                if depth == 0 {
                    alternatives.append(text[alternativeStart..<index])
                    return (alternatives, text[text.index(after: index)...])
                }
            default: break
            }
            index = text.index(after: index)
        }
        return nil
    }
}
