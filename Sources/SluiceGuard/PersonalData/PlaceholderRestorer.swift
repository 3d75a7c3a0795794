/// Puts the details back into a streamed answer: every placeholder of a `PersonalDataMask` the model wrote is
/// replaced by what it stands for, before the text goes on.
///
/// Text is fed as it arrives. A tail that could still become a placeholder (`[EMA`, `[EMAIL_1`) is held back until
/// the next piece decides it — a model writes a placeholder over several tokens — so `feed` may return less than it
/// was given, and `finish` returns what is still held when the stream ends. Placeholders that the mask does not know
/// (one the model made up) are left as written.
public struct PlaceholderRestorer: Sendable {
    private let originals: [String: String]
    private let longest: Int
    private var held = ""

    public init(originals: [String: String]) {
        self.originals = originals
        longest = originals.keys.map(\.utf8.count).max() ?? 0
    }

    /// Whether anything is held back.
    public var isHolding: Bool { !held.isEmpty }

    /// The next piece of the answer; returns what can be shown now.
    public mutating func feed(_ text: String) -> String {
        let text = held + text
        held = ""
        let cut = heldBackStart(of: text)
        held = String(text[cut...])
        return restored(String(text[..<cut]))
    }

    /// What is still held back, with any placeholder in it put back.
    public mutating func finish() -> String {
        defer { held = "" }
        return restored(held)
    }

    /// Where a tail starts that may be the beginning of a placeholder: at the last `[` when what follows it is
    /// shorter than the longest placeholder, has no `]`, and is made of a placeholder's characters.
    private func heldBackStart(of text: String) -> String.Index {
        guard longest > 0, let open = text.utf8.lastIndex(of: UInt8(ascii: "[")) else { return text.endIndex }
        let tail = text.utf8[open...]
        guard tail.count < longest,
            tail.dropFirst().allSatisfy({ PersonalDataFinder.isUpper($0) || PersonalDataFinder.isDigit($0) || $0 == UInt8(ascii: "_") })
        else { return text.endIndex }
        return open
    }

    private func restored(_ text: String) -> String {
        guard text.utf8.contains(UInt8(ascii: "[")) else { return text }
        var result = ""
        var rest = text[...]
        while let open = rest.firstIndex(of: "[") {
            result += rest[..<open]
            rest = rest[open...]
            guard let close = rest.firstIndex(of: "]") else { break }
            let candidate = String(rest[open...close])
            if let original = originals[candidate] {
                result += original
                rest = rest[rest.index(after: close)...]
            } else {
                result += "["
                rest = rest[rest.index(after: open)...]
            }
        }
        return result + rest
    }
}
