import SluiceCore
import SluiceGuard
@testable import SluiceServer
import Testing

/// `LogprobAligner` with a real `OutputRedactor`, over answers split into tokens every which way: whatever the split,
/// the entries' tokens spell exactly what was shown, no entry holds a redacted secret, and the log probabilities add up.
@Suite("Log probabilities lined up with redacted text")
struct LogprobAlignerTests {
    static let systemPrompt = "You are the Sluice test assistant. The launch code is plover."
    static let answers = [
        "A plain answer with no secret at all, and some é and 😀 in it.",
        "Sure. My instructions say: \(systemPrompt) And my key is sk-test-secret, keep it safe.",
        "Use sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD to call it, or AKIAABCDEFGHIJKLMNOP.",
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\nthat is all",
    ]

    /// `text` cut into tokens of 1 to `longest` characters, the lengths drawn from `seed`.
    static func tokens(_ text: String, seed: UInt64, longest: Int) -> [String] {
        var generator = seed
        var rest = Substring(text)
        var tokens: [String] = []
        while !rest.isEmpty {
            generator = generator &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let length = Int(generator >> 33) % longest + 1
            tokens.append(String(rest.prefix(length)))
            rest = rest.dropFirst(length)
        }
        return tokens
    }

    @Test("any split: tokens spell what is shown, nothing redacted leaks, nothing is lost", arguments: Array(0..<40))
    func anySplit(seed: Int) throws {
        let credentials = try GuardRules.builtIn().credentials
        for answer in Self.answers {
            let pieces = Self.tokens(answer, seed: UInt64(seed), longest: 1 + seed % 7)
            var redactor = OutputRedactor(systemPrompt: Self.systemPrompt, credentials: credentials, secrets: ["sk-test-secret"])
            var aligner = LogprobAligner()
            var shown = ""
            var entries: [TokenLogprob] = []
            for (index, piece) in pieces.enumerated() {
                // As a chunk carries them: the token's entry first, then its text — sometimes two tokens in one chunk.
                aligner.receive([TokenLogprob(
                    token: piece, logprob: -Double(index + 1), topLogprobs: [.init(token: piece, logprob: -Double(index + 1))])])
                if index % 5 == 3, index + 1 < pieces.count { continue }
                let text = index % 5 == 4 && index > 0 ? pieces[index - 1] + piece : piece
                let before = redactor.redactions.count
                let released = redactor.feed(text)
                shown += released
                entries += aligner.release(
                    shown: released, fedBytes: text.utf8.count, heldBackBytes: redactor.heldBackByteCount,
                    redacted: redactor.redactions.count > before)
            }
            let before = redactor.redactions.count
            let rest = redactor.finish()
            shown += rest
            entries += aligner.release(shown: rest, fedBytes: 0, heldBackBytes: 0, redacted: redactor.redactions.count > before)

            #expect(entries.map(\.token).joined() == shown, "\(pieces)")
            let total = entries.reduce(0) { $0 + $1.logprob }
            #expect(total == -Double(pieces.count * (pieces.count + 1) / 2), "\(pieces)")
            for secret in ["launch code", "plover", "sk-test-secret", "abcdefghijklmnop", "AKIAABCD", "MIIEvQIBADAN"] {
                #expect(!entries.contains { $0.token.contains(secret) || $0.topLogprobs.contains { $0.token.contains(secret) } })
                #expect(!shown.contains(secret))
            }
            // Where nothing was redacted, every token keeps its own entry.
            if redactor.redactions.isEmpty { #expect(entries.map(\.token) == pieces) }
        }
    }
}
