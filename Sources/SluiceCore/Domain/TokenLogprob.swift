/// The log probability of one output token, as OpenAI's `choices[].logprobs.content[]` carries it, with the
/// most likely alternatives at that position when the caller asked for them (`top_logprobs`).
public struct TokenLogprob: Sendable, Equatable {
    /// One alternative at a token's position.
    public struct Alternative: Sendable, Equatable {
        public var token: String
        public var logprob: Double
        /// The token's UTF-8 bytes (a token can be part of a character); `nil` when the upstream sent none.
        public var bytes: [UInt8]?

        public init(token: String, logprob: Double, bytes: [UInt8]? = nil) {
            self.token = token
            self.logprob = logprob
            self.bytes = bytes
        }
    }

    public var token: String
    public var logprob: Double
    public var bytes: [UInt8]?
    public var topLogprobs: [Alternative]

    public init(token: String, logprob: Double, bytes: [UInt8]? = nil, topLogprobs: [Alternative] = []) {
        self.token = token
        self.logprob = logprob
        self.bytes = bytes
        self.topLogprobs = topLogprobs
    }

    /// How many bytes of the answer's text the token stands for.
    public var byteCount: Int { bytes?.count ?? token.utf8.count }

    /// OpenAI's JSON of one entry: `{"token":…,"logprob":…,"bytes":[…],"top_logprobs":[…]}`.
    public var json: String {
        "{" + Self.fields(token: token, logprob: logprob, bytes: bytes)
            + ",\"top_logprobs\":[" + topLogprobs.map { "{" + Self.fields(token: $0.token, logprob: $0.logprob, bytes: $0.bytes) + "}" }
            .joined(separator: ",") + "]}"
    }

    /// `{"content":[…],"refusal":null}`: the `logprobs` of a choice with these entries.
    public static func choiceJSON(_ entries: [TokenLogprob]) -> String {
        "{\"content\":[" + entries.map(\.json).joined(separator: ",") + "],\"refusal\":null}"
    }

    private static func fields(token: String, logprob: Double, bytes: [UInt8]?) -> String {
        // JSON has no -Infinity: OpenAI writes -9999.0 for a token the model gave no chance.
        let value = logprob.isFinite ? logprob : -9999.0
        let list = bytes.map { "[" + $0.map(String.init).joined(separator: ",") + "]" } ?? "null"
        return "\"token\":\(JSONText.quote(token)),\"logprob\":\(value),\"bytes\":\(list)"
    }
}
