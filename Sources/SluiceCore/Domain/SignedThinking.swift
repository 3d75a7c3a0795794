/// One block of an Anthropic model's thinking as its API returned it — the thinking's text with Anthropic's
/// signature, or a thinking Anthropic encrypted (`redacted_thinking`) — kept so that it can be sent back unchanged.
///
/// In a function-calling loop with extended thinking, Anthropic's API wants the last answer's thinking back, signed,
/// before its `tool_use` blocks; without it the model cannot think while it uses functions. The signature covers the
/// text exactly as the model wrote it, so a block is kept only when Sluice showed the thinking unredacted.
public enum SignedThinking: Sendable, Equatable, Codable {
    /// A `thinking` block: the text and its `signature`.
    case thinking(text: String, signature: String)
    /// A `redacted_thinking` block: Anthropic's encrypted `data`.
    case redacted(data: String)

    private enum CodingKeys: String, CodingKey {
        case type, thinking, signature, data
    }

    /// Stored (and written on every wire) as Anthropic's block: `{"type": "thinking", "thinking": …, "signature": …}`
    /// or `{"type": "redacted_thinking", "data": …}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .thinking(let text, let signature):
            try container.encode("thinking", forKey: .type)
            try container.encode(text, forKey: .thinking)
            try container.encode(signature, forKey: .signature)
        case .redacted(let data):
            try container.encode("redacted_thinking", forKey: .type)
            try container.encode(data, forKey: .data)
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(String.self, forKey: .type) {
        case "redacted_thinking": self = .redacted(data: try container.decode(String.self, forKey: .data))
        default:
            self = .thinking(
                text: try container.decode(String.self, forKey: .thinking),
                signature: try container.decode(String.self, forKey: .signature))
        }
    }

    /// A block a caller sent back, read from Anthropic's fields: `nil` for one that is not Anthropic's — a thinking
    /// block without a signature (another model's thinking, which Sluice wrote unsigned) or another type.
    public init?(type: String, thinking: String?, signature: String?, data: String?) {
        switch type {
        case "thinking":
            guard let thinking, let signature, !signature.isEmpty else { return nil }
            self = .thinking(text: thinking, signature: signature)
        case "redacted_thinking":
            guard let data else { return nil }
            self = .redacted(data: data)
        default: return nil
        }
    }

    /// The block as Anthropic's JSON, for a wire written by hand.
    public var json: String {
        switch self {
        case .thinking(let text, let signature):
            "{\"type\":\"thinking\",\"thinking\":\(JSONText.quote(text)),\"signature\":\(JSONText.quote(signature))}"
        case .redacted(let data): "{\"type\":\"redacted_thinking\",\"data\":\(JSONText.quote(data))}"
        }
    }
}
