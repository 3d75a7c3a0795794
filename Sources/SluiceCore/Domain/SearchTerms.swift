import Foundation

/// What a conversation search looks for, read from the words typed: each word — or each "quoted phrase" — is a term,
/// and a conversation is found when it has every term somewhere (its title or any of its messages, in any order), as
/// mail and chat apps search. "lisbon food" finds a conversation about food in Lisbon; "\"food in lisbon\"" only one
/// with those words together.
public struct SearchTerms: Sendable, Equatable {
    /// At most this many terms: each is one more pass over the conversation's messages.
    public static let maxCount = 10

    public let terms: [String]

    /// The terms of `query`, the same term (ignoring case) once; an unclosed quote runs to the end. `nil` when
    /// `query` has none.
    public init?(_ query: String) {
        var terms: [String] = []
        var term = ""
        var quoted = false
        func close() {
            let trimmed = term.trimmingCharacters(in: .whitespacesAndNewlines)
            if !trimmed.isEmpty, !terms.contains(where: { $0.caseInsensitiveCompare(trimmed) == .orderedSame }) {
                terms.append(trimmed)
            }
            term = ""
        }
        for character in query {
            if character == "\"" {
                close()
                quoted.toggle()
            } else if character.isWhitespace, !quoted {
                close()
            } else {
                term.append(character)
            }
        }
        close()
        guard !terms.isEmpty else { return nil }
        self.terms = terms
    }

    /// The text `pattern` of a SQL `LIKE … ESCAPE '\'` that finds `text` anywhere: its `%`, `_` and `\` taken literally.
    public static func likePattern(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if character == "%" || character == "_" || character == "\\" { escaped.append("\\") }
            escaped.append(character)
        }
        return "%" + escaped + "%"
    }

    /// The first place in `text` where any term is (ignoring case and accents).
    public func firstHit(in text: String) -> Range<String.Index>? {
        terms.compactMap { text.range(of: $0, options: [.caseInsensitive, .diacriticInsensitive]) }
            .min { $0.lowerBound < $1.lowerBound }
    }
}
