/// What Sluice asks an upstream for on `POST /v1/embeddings`: vectors for texts (or for token ids, as OpenAI's API
/// also takes them), for retrieval and search (RAG).
public struct EmbeddingRequest: Sendable, Equatable {
    /// The texts to embed, or already tokenised inputs.
    public enum Input: Sendable, Equatable {
        case texts([String])
        case tokens([[Int]])

        /// How many vectors the answer has.
        public var count: Int {
            switch self {
            case .texts(let texts): texts.count
            case .tokens(let tokens): tokens.count
            }
        }
    }

    public var model: String
    public var input: Input
    /// The vectors' length, for models that can shorten them (`text-embedding-3-*`).
    public var dimensions: Int?
    /// `float` or `base64` (float32, little-endian); `nil`: the upstream's default, `float`.
    public var encodingFormat: String?
    /// The caller's end user, passed on as OpenAI's `user`.
    public var endUser: String?
    /// Scenario hint for the simulator (`X-Sluice-Scenario`); ignored by real upstreams.
    public var extraHeaders: [String: String]

    public init(
        model: String, input: Input, dimensions: Int? = nil, encodingFormat: String? = nil, endUser: String? = nil,
        extraHeaders: [String: String] = [:]
    ) {
        self.model = model
        self.input = input
        self.dimensions = dimensions
        self.encodingFormat = encodingFormat
        self.endUser = endUser
        self.extraHeaders = extraHeaders
    }
}

/// An upstream's embeddings answer: its JSON body as it came (the vectors are passed on byte for byte, never decoded
/// and encoded again), and the input tokens it reported.
public struct EmbeddingResponse: Sendable, Equatable {
    public var body: [UInt8]
    public var promptTokens: Int?

    public init(body: [UInt8], promptTokens: Int?) {
        self.body = body
        self.promptTokens = promptTokens
    }
}

/// The JSON body of an embeddings request, as OpenAI defines it.
public enum EmbeddingRequestBody {
    public static func json(_ request: EmbeddingRequest) -> [UInt8] {
        var out: [UInt8] = Array(#"{"model":"#.utf8)
        JSONText.appendQuoted(request.model, to: &out)
        out += Array(#","input":["#.utf8)
        switch request.input {
        case .texts(let texts):
            for (index, text) in texts.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONText.appendQuoted(text, to: &out)
            }
        case .tokens(let inputs):
            for (index, tokens) in inputs.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                out += Array(("[" + tokens.map(String.init).joined(separator: ",") + "]").utf8)
            }
        }
        out.append(UInt8(ascii: "]"))
        if let dimensions = request.dimensions { out += Array(#","dimensions":\#(dimensions)"#.utf8) }
        if let format = request.encodingFormat {
            out += Array(#","encoding_format":"#.utf8)
            JSONText.appendQuoted(format, to: &out)
        }
        if let endUser = request.endUser {
            out += Array(#","user":"#.utf8)
            JSONText.appendQuoted(endUser, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }
}
