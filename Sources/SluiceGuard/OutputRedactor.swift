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
    /// `systemPrompt` and `secrets` in UTF-8: every piece is searched for them byte by byte.
    private let systemPromptBytes: [UInt8]?
    private let secretBytes: [[UInt8]]
    /// Every credential shape's prefixes in UTF-8, in one list, and which bytes start one of them: a tail whose
    /// first byte starts none (almost every token) needs no further look.
    private let credentialPrefixes: [[UInt8]]
    private let startsAPrefix: [Bool]
    private var pending = ""
    /// The length in bytes of the longest credential match that ends `pending` and may still grow: held back.
    private var growingMatchLength = 0
    /// The last character shown, as the context of `pending`'s start: a pattern's `\b` and a word's start see
    /// what came before it, so how the answer was split into pieces does not change what is redacted.
    private var shownBefore: Unicode.Scalar?
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
        systemPromptBytes = self.systemPrompt.map { Array($0.utf8) }
        secretBytes = self.secrets.map { Array($0.utf8) }
        credentialPrefixes = credentials.flatMap(\.prefixBytes).filter { !$0.isEmpty }
        var starts = [Bool](repeating: false, count: 256)
        for prefix in credentialPrefixes { starts[Int(prefix[0])] = true }
        startsAPrefix = starts
    }

    /// Takes the next piece of the answer and returns the text that can be shown now (possibly empty).
    public mutating func feed(_ text: String) -> String {
        // Nothing held back (almost every token): the piece itself, not a copy of it.
        if pending.isEmpty { pending = text } else { pending += text }
        redactComplete(final: false)
        let keep = heldBackStart()
        if keep == pending.endIndex {
            defer { pending = "" }
            shownBefore = pending.unicodeScalars.last ?? shownBefore
            return pending
        }
        if keep == pending.startIndex { return "" }
        let released = String(pending[..<keep])
        pending = String(pending[keep...])
        shownBefore = released.unicodeScalars.last ?? shownBefore
        return released
    }

    /// How many bytes of text `feed` has held back so far (none once `finish` has run).
    public var heldBackByteCount: Int { pending.utf8.count }

    /// The answer ended: returns whatever was held back, redacted.
    public mutating func finish() -> String {
        redactComplete(final: true)
        defer { pending = "" }
        return pending
    }

    private mutating func redactComplete(final: Bool) {
        if let systemPrompt, let systemPromptBytes, Self.lastRange(of: systemPromptBytes, in: pending[...]) != nil {
            pending = pending.replacingOccurrences(of: systemPrompt, with: Self.systemPromptMarker)
            redactions.append("system_prompt")
        }
        for (secret, bytes) in zip(secrets, secretBytes) where Self.lastRange(of: bytes, in: pending[...]) != nil {
            pending = pending.replacingOccurrences(of: secret, with: Self.credentialMarker)
            redactions.append("secret")
        }
        growingMatchLength = 0
        let longestRun = Self.longestKeyRun(in: pending)
        guard credentials.contains(where: { longestRun >= $0.minimumRun }) else { return }
        // Searched after the last character shown, which the patterns' look-behinds and `\b` see (transparent
        // bounds) but no match can start in.
        let context = shownBefore.map { String(Character($0)) } ?? ""
        let offset = context.utf16.count
        for credential in credentials where longestRun >= credential.minimumRun {
            // Again for each shape: the one before may have replaced some of the text.
            let text = context + pending
            let range = NSRange(location: offset, length: text.utf16.count - offset)
            // Replace from the end so earlier ranges stay valid; a match that reaches the end of the pending text
            // may still grow, so it waits for more text unless the stream is over.
            for match in credential.regex.matches(in: text, options: .withTransparentBounds, range: range).reversed() {
                let utf16 = pending.utf16
                guard match.range.location >= offset,
                    let lower = utf16.index(utf16.startIndex, offsetBy: match.range.location - offset, limitedBy: utf16.endIndex),
                    let upper = utf16.index(lower, offsetBy: match.range.length, limitedBy: utf16.endIndex)
                else { continue }
                let swiftRange = lower..<upper
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
        if let systemPromptBytes, let index = Self.suffixStartingPrefix(of: systemPromptBytes, in: pending, after: shownBefore) { start = index }
        for secret in secretBytes {
            if let index = Self.suffixStartingPrefix(of: secret, in: pending, after: shownBefore), index < start { start = index }
        }
        // A credential in the making: the last run of key characters starts like one of the prefixes.
        let runStart = Self.trailingKeyRunStart(in: pending)
        if runStart < start, startsAPrefix[Int(pending.utf8[runStart])], startsLikeACredential(pending.utf8[runStart...]) {
            start = runStart
        }
        // A private-key block that has begun but whose `-----END … KEY-----` line is not complete yet.
        if let begin = Self.lastRange(of: Self.beginBlock, in: pending[...]), begin.lowerBound < start {
            let ended = Self.lastRange(of: Self.endBlock, in: pending[begin.upperBound...]).map {
                Self.lastRange(of: Self.endOfKeyLine, in: pending[$0.upperBound...]) != nil
            } ?? false
            if !ended { start = begin.lowerBound }
        }
        return start
    }

    /// Whether `run` starts with one of the credential prefixes or is the start of one (compared in bytes, not
    /// grapheme by grapheme as `hasPrefix` on Strings would at every token).
    private func startsLikeACredential(_ run: Substring.UTF8View) -> Bool {
        credentialPrefixes.contains { prefix in
            var index = run.startIndex
            for byte in prefix {
                guard index < run.endIndex else { return true }
                if run[index] != byte { return false }
                index = run.index(after: index)
            }
            return true
        }
    }

    private static let beginBlock = Array("-----BEGIN".utf8)
    private static let endBlock = Array("-----END".utf8)
    private static let endOfKeyLine = Array("KEY-----".utf8)

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

    /// Where the run of ASCII letters, digits, `-` and `_` that ends `text` starts (`endIndex` when it ends in
    /// none). A letter beyond ASCII ends the run like a space does: every credential shape is ASCII, and one may
    /// follow such a letter directly (`sk-…` has no word boundary in its pattern), so "café" + "sk" waits for the next piece.
    static func trailingKeyRunStart(in text: String) -> String.Index {
        let utf8 = text.utf8
        var index = utf8.endIndex
        while index > utf8.startIndex {
            let before = utf8.index(before: index)
            guard isKeyByte(utf8[before]) else { break }
            index = before
        }
        return index
    }

    /// The last occurrence of `needleBytes` (UTF-8) in `text`, compared byte for byte (no Unicode folding, unlike
    /// Foundation's).
    static func lastRange(of needleBytes: [UInt8], in text: Substring) -> Range<String.Index>? {
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
    /// Compared in UTF-8, as `lastRange` redacts: a tail that is a byte prefix of `whole` is held back.
    static func suffixStartingPrefix(of whole: [UInt8], in text: String, after before: Unicode.Scalar?) -> String.Index? {
        guard let first = whole.first else { return nil }
        let utf8 = text.utf8
        var index = utf8.index(utf8.endIndex, offsetBy: -(whole.count - 1), limitedBy: utf8.startIndex) ?? utf8.startIndex
        while index < utf8.endIndex {
            // Only where a character starts: `first` is a whole character's first byte or the prompt's own
            // first letter, never a UTF-8 continuation byte.
            if utf8[index] == first, whole.starts(with: utf8[index...]), startsWord(at: index, in: text, after: before) {
                return index
            }
            index = utf8.index(after: index)
        }
        return nil
    }

    /// Whether the character before `index` is neither a letter nor a digit; at the start of `text`, `before` is
    /// the one before it (none: a word starts).
    private static func startsWord(at index: String.Index, in text: String, after before: Unicode.Scalar?) -> Bool {
        guard index > text.startIndex else {
            guard let before else { return true }
            return !(before.properties.isAlphabetic || before.properties.numericType != nil)
        }
        let before = text.utf8[text.utf8.index(before: index)]
        if before < 0x80 { return !(isKeyByte(before) && before != UInt8(ascii: "-") && before != UInt8(ascii: "_")) }
        let character = text[text.index(before: index)]
        return !(character.isLetter || character.isNumber)
    }
}
