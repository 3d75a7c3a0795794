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

    /// The `markdown` scenario's answer: every construct the web chat renders, and every trick it must defuse
    /// (each would set `window.__xss` if it ran).
    public static let markdown = """
        # Trip plan

        Here is **bold**, *italic* and `inline code`.

        - pack light
        - bring a camera
        - learn three phrases

        | Day | City | Budget |
        |-----|------|-------:|
        | 1 | Lisbon | 120 € |
        | 2 | Sintra | 80 € |

        ```python
        def budget(days, per_day):
            return days * per_day  # euros
        ```

        See [the guide](https://example.com/guide) for more.

        <img src=x onerror="window.__xss=1"> <script>window.__xss=2</script>

        [click me](javascript:window.__xss=3) and [this](JaVaScRiPt:window.__xss=4) and <a href="javascript:window.__xss=5">raw</a>

        Done.
        """

    /// The whole answer of `count` tokens.
    public static func answer(tokens count: Int) -> String {
        (0..<count).map(token).joined()
    }

    /// A deterministic prompt-token count: words of every message plus 4 per message and 3 for the reply.
    static func promptTokens(_ messages: [String]) -> Int {
        messages.reduce(3) { $0 + 4 + $1.split(whereSeparator: \.isWhitespace).count }
    }

    /// The tokens of the first `count` messages, as read from a prompt cache (the reply's 3 are never cached).
    static func cachedTokens(_ count: Int, of messages: [String]) -> Int {
        count == 0 ? 0 : promptTokens(Array(messages.prefix(count))) - 3
    }
}
