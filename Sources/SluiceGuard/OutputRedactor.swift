import Foundation

/// A credential shape the model's output must never show (from the rules file's `credentials` list).
public struct CredentialPattern: Sendable {
    public let id: String
    /// The literal start every match has (`sk-`, `AKIA`); while the output ends in a piece of it, the tail is
    /// held back until it is clear whether a credential follows.
    public let prefix: String
    let regex: NSRegularExpression

    public init(id: String, prefix: String, pattern: String) throws {
        self.id = id
        self.prefix = prefix
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
        if let systemPrompt, pending.contains(systemPrompt) {
            pending = pending.replacingOccurrences(of: systemPrompt, with: Self.systemPromptMarker)
            redactions.append("system_prompt")
        }
        for secret in secrets where pending.contains(secret) {
            pending = pending.replacingOccurrences(of: secret, with: Self.credentialMarker)
            redactions.append("secret")
        }
        for credential in credentials {
            let range = NSRange(pending.startIndex..., in: pending)
            // Replace from the end so earlier ranges stay valid; a match that reaches the end of the pending text
            // may still grow, so it waits for more text unless the stream is over.
            for match in credential.regex.matches(in: pending, range: range).reversed() {
                guard let swiftRange = Range(match.range, in: pending) else { continue }
                if !final && swiftRange.upperBound == pending.endIndex { continue }
                pending.replaceSubrange(swiftRange, with: Self.credentialMarker)
                redactions.append(credential.id)
            }
        }
    }

    /// Where the tail that must wait for more text starts (`pending.endIndex` when nothing must wait).
    private func heldBackStart() -> String.Index {
        var start = pending.endIndex
        // The start of the system prompt or of a secret at the end of the text.
        for whole in [systemPrompt].compactMap({ $0 }) + secrets {
            if let index = Self.suffixStartingPrefix(of: whole, in: pending), index < start { start = index }
        }
        // A credential in the making: the last run of key characters starts like one of the prefixes.
        let keyRun = pending.reversed().prefix { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
        if !keyRun.isEmpty {
            let runStart = pending.index(pending.endIndex, offsetBy: -keyRun.count)
            let run = pending[runStart...]
            let credentialLike = credentials.contains { run.hasPrefix($0.prefix) || $0.prefix.hasPrefix(run) }
            if credentialLike, runStart < start { start = runStart }
        }
        // A private-key block that has begun but not ended.
        if let begin = pending.range(of: "-----BEGIN", options: .backwards), !pending[begin.upperBound...].contains("-----END"),
            begin.lowerBound < start
        {
            start = begin.lowerBound
        }
        return start
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
