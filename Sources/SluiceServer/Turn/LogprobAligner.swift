import SluiceCore

/// Lines up the upstream's log probabilities with the text the `OutputRedactor` lets through, so that a caller
/// who asked for `logprobs` gets an entry for what it was shown — and never the text of a token that was redacted.
///
/// Entries are released when all of their token's text has been shown. Where the redactor replaced something
/// (a credential, the system prompt), the entries of the text around it are released as **one** entry: its token is
/// the text shown there (the marker included), its log probability the sum of theirs (the probability of that
/// whole stretch), without alternatives — a redacted token's alternatives could spell the secret as well. The
/// tokens' texts, joined, are always the answer's text.
struct LogprobAligner {
    /// Received, not yet released: each with where its token ends in the upstream's text (in bytes).
    private var pending: [(entry: TokenLogprob, end: Int)] = []
    /// Received before the text they belong to (`ProviderEvent.logprobs` comes before its `delta`).
    private var unplaced: [TokenLogprob] = []
    /// The upstream's text fed to the redactor so far, in bytes.
    private var fed = 0
    /// Where the released entries end in the upstream's text.
    private var covered = 0
    /// Text shown beyond `covered` (part of a pending entry's token), while nothing is redacted.
    private var shownUncovered = ""
    /// Text shown since a redaction, which the redactor may still be holding more of: the merged entry's token.
    private var shownSinceRedaction: String?

    /// The entries of the next piece of the upstream's text.
    mutating func receive(_ entries: [TokenLogprob]) { unplaced += entries }

    /// The redactor was fed `fedBytes` of the upstream's text and showed `shown`; it holds `heldBackBytes` back, and
    /// `redacted` tells whether it replaced anything this time. Returns the entries the caller can be given now.
    mutating func release(shown: String, fedBytes: Int, heldBackBytes: Int, redacted: Bool) -> [TokenLogprob] {
        place(fedBytes)
        if redacted || shownSinceRedaction != nil {
            let text = (shownSinceRedaction ?? shownUncovered) + shown
            // While anything is held back after a redaction, what it stands for in the upstream's text is unknown.
            guard heldBackBytes == 0 else {
                shownSinceRedaction = text
                return []
            }
            shownSinceRedaction = nil
            shownUncovered = ""
            covered = fed
            let merged = pending.map(\.entry)
            pending = []
            guard !merged.isEmpty else { return [] }
            return [TokenLogprob(token: text, logprob: merged.reduce(0) { $0 + $1.logprob }, bytes: Array(text.utf8))]
        }
        // Nothing replaced: the shown text is the upstream's, up to what is held back.
        let released = fed - heldBackBytes
        let ready = pending.prefix { $0.end <= released }
        pending.removeFirst(ready.count)
        if let last = ready.last { covered = last.end }
        // No entry waits: the text shown is no later entry's (they are placed after it).
        if pending.isEmpty { covered = released }
        let beyond = released - covered
        let shownSoFar = shownUncovered + shown
        shownUncovered = beyond > 0 ? String(decoding: shownSoFar.utf8.suffix(beyond), as: UTF8.self) : ""
        return ready.map(\.entry)
    }

    /// Places the entries received since the last piece over its `count` bytes, each by its token's length; the
    /// last ends where the piece does, whatever the upstream's tokens add up to.
    private mutating func place(_ count: Int) {
        let start = fed
        fed += count
        var end = start
        for (index, entry) in unplaced.enumerated() {
            end = index == unplaced.count - 1 ? fed : min(fed, end + entry.byteCount)
            pending.append((entry, end))
        }
        unplaced = []
    }
}
