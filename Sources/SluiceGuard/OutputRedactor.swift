import Foundation

/// A credential shape the model's output must never show (from the rules file's `credentials` list).
public struct CredentialPattern: Sendable {
    public let id: String
    /// The literal starts a match can have (`sk-`; `AKIA`, `ASIA`); while the output ends in a piece of one, the
    /// tail is held back until it is clear whether a credential follows.
    public let prefixes: [String]
    /// Every match contains a run of at least this many key characters (ASCII letters, digits, `-`, `_`): text
    /// without such a run is not searched, which spares the regular expression on almost every token.
    /// `0` searches always.
    public let minimumRun: Int
    let regex: NSRegularExpression
    /// `prefixes` in UTF-8, compared byte by byte with the tail of every piece of output.
    let prefixBytes: [[UInt8]]

    public init(id: String, prefixes: [String], pattern: String, minimumRun: Int = 0) throws {
        self.id = id
        self.prefixes = prefixes
        self.prefixBytes = prefixes.map { Array($0.utf8) }
        self.minimumRun = max(0, minimumRun)
        regex = try NSRegularExpression(pattern: pattern)
    }
}

/// Redacts, from a streamed answer, the system prompt quoted verbatim, anything shaped like a credential and
/// the operator's own secrets, before the text reaches the client or the store.
///
/// Text is fed as it arrives; what comes back is safe to show. A tail that starts a word and could be the start
/// of something to redact (the first words of the system prompt, `sk-`) is held back until the next piece
/// decides it, so a secret split over several tokens is caught too. `finish()` releases the rest when the
/// stream ends.
public struct OutputRedactor: Sendable {
    public static let systemPromptMarker = "[system prompt redacted]"
    public static let credentialMarker = "[credential redacted]"

    private let systemPrompt: String?
    private let credentials: [CredentialPattern]
    private let secrets: [String]
    private var pending = ""
    /// The length in bytes of the longest credential match that ends `pending` and may still grow: held back.
    private var growingMatchLength = 0
    /// What was redacted so far (`system_prompt`, a credential id, `secret`), in order, for the log.
    public private(set) var redactions: [String] = []

    /// - Parameters:
    ///   - systemPrompt: redacted when quoted whole; prompts under 20 characters are too generic to redact.
    ///   - secrets: exact strings (the upstream API keys) that must never be shown; under 8 characters ignored.
    public init(systemPrompt: String?, credentials: [CredentialPattern], secrets: [String] = []) {
        let prompt = systemPrompt?.trimmingCharacters(in: .whitespacesAndNewlines)
        self.systemPrompt = (prompt?.count ?? 0) >= 20 ? prompt : nil
        self.credentials = credentials
        self.secrets = secrets.filter { $0.count >= 8 }
    }

    /// Takes the next piece of the answer and returns the text that can be shown now (possibly empty).
    public mutating func feed(_ text: String) -> String {
        pending += text
        redactComplete(final: false)
        let keep = heldBackStart()
        let released = String(pending[..<keep])
        pending = String(pending[keep...])
        return released
    }

    /// The answer ended: returns whatever was held back, redacted.
    public mutating func finish() -> String {
        redactComplete(final: true)
        defer { pending = "" }
        return pending
    }

    private mutating func redactComplete(final: Bool) {
        if let systemPrompt, Self.lastRange(of: systemPrompt, in: pending[...]) != nil {
            pending = pending.replacingOccurrences(of: systemPrompt, with: Self.systemPromptMarker)
            redactions.append("system_prompt")
        }
        for secret in secrets where Self.lastRange(of: secret, in: pending[...]) != nil {
            pending = pending.replacingOccurrences(of: secret, with: Self.credentialMarker)
            redactions.append("secret")
        }
        growingMatchLength = 0
        let longestRun = Self.longestKeyRun(in: pending)
        for credential in credentials where longestRun >= credential.minimumRun {
            let range = NSRange(pending.startIndex..., in: pending)
            // Replace from the end so earlier ranges stay valid; a match that reaches the end of the pending text
            // may still grow, so it waits for more text unless the stream is over.
            for match in credential.regex.matches(in: pending, range: range).reversed() {
                guard let swiftRange = Range(match.range, in: pending) else { continue }
                if !final && swiftRange.upperBound == pending.endIndex {
                    let length = pending.utf8.distance(from: swiftRange.lowerBound, to: swiftRange.upperBound)
                    growingMatchLength = max(growingMatchLength, length)
                    continue
                }
                pending.replaceSubrange(swiftRange, with: Self.credentialMarker)
                redactions.append(credential.id)
            }
        }
    }

    /// Where the tail that must wait for more text starts (`pending.endIndex` when nothing must wait).
    private func heldBackStart() -> String.Index {
        var start = pending.utf8.index(pending.endIndex, offsetBy: -growingMatchLength)
        // The start of the system prompt or of a secret at the end of the text.
        if let systemPrompt, let index = Self.suffixStartingPrefix(of: systemPrompt, in: pending) { start = index }
        for secret in secrets {
            if let index = Self.suffixStartingPrefix(of: secret, in: pending), index < start { start = index }
        }
        // A credential in the making: the last run of key characters starts like one of the prefixes.
        let runStart = Self.trailingKeyRunStart(in: pending)
        if runStart < pending.endIndex {
            // Bytes, not Characters: `hasPrefix` on Strings compared grapheme by grapheme at every token.
            let run = Array(pending.utf8[runStart...])
            let credentialLike = credentials.contains { $0.prefixBytes.contains { run.starts(with: $0) || $0.starts(with: run) } }
            if credentialLike, runStart < start { start = runStart }
        }
        // A private-key block that has begun but whose `-----END … KEY-----` line is not complete yet.
        if let begin = Self.lastRange(of: "-----BEGIN", in: pending[...]), begin.lowerBound < start {
            let ended = Self.lastRange(of: "-----END", in: pending[begin.upperBound...]).map {
                Self.lastRange(of: "KEY-----", in: pending[$0.upperBound...]) != nil
            } ?? false
            if !ended { start = begin.lowerBound }
        }
        return start
    }

    /// ASCII letters, digits, `-` and `_`: what the credential shapes are made of.
    private static func isKeyByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "_"):
            return true
        default:
            return false
        }
    }

    /// The length of the longest run of key characters in `text`.
    static func longestKeyRun(in text: String) -> Int {
        var longest = 0
        var current = 0
        for byte in text.utf8 {
            if isKeyByte(byte) {
                current += 1
                if current > longest { longest = current }
            } else {
                current = 0
            }
        }
        return longest
    }

    /// Where the run of letters, digits, `-` and `_` that ends `text` starts (`endIndex` when it ends in none).
    static func trailingKeyRunStart(in text: String) -> String.Index {
        let utf8 = text.utf8
        var index = utf8.endIndex
        while index > utf8.startIndex {
            let before = utf8.index(before: index)
            let byte = utf8[before]
            if byte >= 0x80 {
                // Letters beyond ASCII belong to the run too: the rare slow path walks characters.
                let run = text.reversed().prefix { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
                return text.index(text.endIndex, offsetBy: -run.count)
            }
            guard isKeyByte(byte) else { break }
            index = before
        }
        return index
    }

    /// The last occurrence of `needle` in `text`, compared byte for byte (no Unicode folding, unlike Foundation's).
    static func lastRange(of needle: String, in text: Substring) -> Range<String.Index>? {
        let needleBytes = Array(needle.utf8)
        guard let first = needleBytes.first else { return nil }
        let haystack = text.utf8
        guard haystack.count >= needleBytes.count else { return nil }
        var start = haystack.index(haystack.endIndex, offsetBy: -needleBytes.count)
        while true {
            if haystack[start] == first, haystack[start...].starts(with: needleBytes) {
                return start..<haystack.index(start, offsetBy: needleBytes.count)
            }
            guard start > haystack.startIndex else { return nil }
            start = haystack.index(before: start)
        }
    }

    /// The earliest index from which the rest of `text` is a proper prefix of `whole`, starting at a word
    /// boundary (a quoted prompt or a key starts a word; the `s` that ends "works" does not start "sk-…").
    static func suffixStartingPrefix(of whole: String, in text: String) -> String.Index? {
        guard let first = whole.first else { return nil }
        var index = text.index(text.endIndex, offsetBy: -min(text.count, whole.count - 1), limitedBy: text.startIndex)
            ?? text.startIndex
        while index < text.endIndex {
            let atBoundary = index == text.startIndex || {
                let before = text[text.index(before: index)]
                return !(before.isLetter || before.isNumber)
            }()
            if atBoundary, text[index] == first, whole.hasPrefix(text[index...]) { return index }
            index = text.index(after: index)
        }
        return nil
    }
}
