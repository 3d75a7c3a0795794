import Foundation

/// A conversation's own sampling settings — Open WebUI's "Advanced Params" in a chat's controls, LibreChat's
/// conversation parameters. The web app's turns of the conversation (a message, an edit, a regenerate, a continue)
/// use each one the turn itself leaves unset; a gateway call uses only its own. `nil` leaves a setting to the model.
public struct ConversationParameters: Sendable, Equatable, Codable {
    public var temperature: Double?
    public var topP: Double?
    /// The most output tokens an answer may have (within the server's own limit).
    public var maxTokens: Int?
    public var seed: Int?
    /// Text that ends an answer where the model would write it; at most 4.
    public var stop: [String]?
    public var frequencyPenalty: Double?
    public var presencePenalty: Double?

    /// Their names in the API and in the stored JSON.
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case temperature, seed, stop
        case topP = "top_p", maxTokens = "max_tokens", frequencyPenalty = "frequency_penalty", presencePenalty = "presence_penalty"
    }

    public init(
        temperature: Double? = nil, topP: Double? = nil, maxTokens: Int? = nil, seed: Int? = nil, stop: [String]? = nil,
        frequencyPenalty: Double? = nil, presencePenalty: Double? = nil
    ) {
        self.temperature = temperature
        self.topP = topP
        self.maxTokens = maxTokens
        self.seed = seed
        self.stop = stop
        self.frequencyPenalty = frequencyPenalty
        self.presencePenalty = presencePenalty
    }

    /// No setting at all: the conversation leaves everything to the model.
    public var isEmpty: Bool { self == ConversationParameters() }

    /// As stored: JSON with the API's names.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// Read back from `json`; `nil` for none (or for text that is not such an object).
    public init?(json: String?) {
        guard let json, let read = try? JSONDecoder().decode(Self.self, from: Data(json.utf8)), !read.isEmpty else { return nil }
        self = read
    }

    /// A turn's temperature, output limit and sampling, each taken from these where the turn left it unset.
    public func fill(temperature: inout Double?, maxTokens: inout Int?, sampling: inout SamplingOptions) {
        temperature = temperature ?? self.temperature
        maxTokens = maxTokens ?? self.maxTokens
        sampling.topP = sampling.topP ?? topP
        sampling.seed = sampling.seed ?? seed
        if sampling.stop.isEmpty { sampling.stop = stop ?? [] }
        sampling.frequencyPenalty = sampling.frequencyPenalty ?? frequencyPenalty
        sampling.presencePenalty = sampling.presencePenalty ?? presencePenalty
    }
}
