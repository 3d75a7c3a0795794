/// What Sluice asks an upstream for on `POST /v1/completions`, OpenAI's text completions: a prompt continued as it
/// stands, with a `suffix` for fill-in-the-middle — what code editors' autocompletion (Continue, Tabby) and evaluation
/// harnesses (lm-evaluation-harness, with `echo` and `logprobs`) call.
///
/// The caller's JSON goes upstream as it came but for the fields Sluice decides (`model`, `max_tokens`, `stream`,
/// `stream_options`), so that options Sluice does not read (`suffix`, `echo`, `logprobs`, `logit_bias`, `best_of`…)
/// reach the model unchanged, as LiteLLM passes them on.
public struct TextCompletionRequest: Sendable, Equatable {
    public var model: String
    /// The request's JSON object, ready to send.
    public var body: [UInt8]
    /// Whether the upstream is asked to stream (then with its usage chunk); otherwise one answer comes whole.
    public var stream: Bool
    /// Scenario hint for the simulator (`X-Sluice-Scenario`); ignored by real upstreams.
    public var extraHeaders: [String: String]

    public init(model: String, body: [UInt8], stream: Bool, extraHeaders: [String: String] = [:]) {
        self.model = model
        self.body = body
        self.stream = stream
        self.extraHeaders = extraHeaders
    }
}

/// One piece of an upstream's text completion: a streamed event's JSON, or a whole answer's, as the upstream wrote
/// it (passed on byte for byte, never decoded and encoded again), with what Sluice reads from it.
public struct TextCompletionChunk: Sendable, Equatable {
    /// The event's `data` (streamed) or the whole JSON body (not streamed).
    public var data: [UInt8]
    /// The text it adds to each answer (choice), as the upstream wrote them: each answer's tokens are counted on
    /// their own when the upstream reports no usage, or one answer's for several.
    public var pieces: [Piece]
    /// The text it adds, every choice's together.
    public var text: String { pieces.count == 1 ? pieces[0].text : pieces.map(\.text).joined() }
    /// The upstream's token counts, when this piece carries them.
    public var usage: Usage?
    /// Whether it carries nothing but the usage (OpenAI's last chunk with `"choices": []`): left out for a caller that
    /// did not ask for the usage.
    public var usageOnly: Bool
    /// Why a choice stopped, when this piece says (`stop`, `length`).
    public var finishReason: String?

    /// The text one piece adds to one answer, named by its choice's `index`.
    public struct Piece: Sendable, Equatable {
        public var choice: Int
        public var text: String

        public init(choice: Int, text: String) {
            self.choice = choice
            self.text = text
        }
    }

    public init(data: [UInt8], pieces: [Piece], usage: Usage? = nil, usageOnly: Bool = false, finishReason: String? = nil) {
        self.data = data
        self.pieces = pieces
        self.usage = usage
        self.usageOnly = usageOnly
        self.finishReason = finishReason
    }
}
