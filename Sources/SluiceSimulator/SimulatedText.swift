/// The deterministic text the simulator streams: token `i` is always the same, and the words include
/// multi-byte UTF-8 (accents, CJK, emoji) so that byte-split handling is exercised.
public enum SimulatedText {
    static let words = [
        "Sluice", "streams", "every", "token", "as", "it", "arrives,", "café", "naïve", "日本語", "🙂", "and",
        "keeps", "the", "partial", "answer", "safe.", "Ünïcödé", "works", "too.",
    ]

    /// The text of token `index` (0-based); tokens after the first start with a space.
    public static func token(_ index: Int) -> String {
        (index == 0 ? "" : " ") + words[index % words.count]
    }

    /// The whole answer of `count` tokens.
    public static func answer(tokens count: Int) -> String {
        (0..<count).map(token).joined()
    }

    /// A deterministic prompt-token count: words of every message plus 4 per message and 3 for the reply.
    static func promptTokens(_ messages: [String]) -> Int {
        messages.reduce(3) { $0 + 4 + $1.split(whereSeparator: \.isWhitespace).count }
    }
}
