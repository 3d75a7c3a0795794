import Foundation
import SluiceCore

/// A `POST /v1/messages` body as Anthropic's Messages API defines it, checked and reduced to a `GatewayCall`: the
/// top-level `system`, the earlier turns and the new user message, with the caller's options.
struct AnthropicMessagesRequest: Sendable {
    var call: GatewayCall
    var stream: Bool

    /// Text blocks only: `{"type":"text","text":…}` (a message's `content` may also be a plain string).
    private struct Blocks: Decodable {
        let text: String
        /// The first block that is not text, for the error that names it.
        let other: (index: Int, type: String)?

        private struct Block: Decodable {
            let type: String
            let text: String?
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self.text = text
                other = nil
                return
            }
            let blocks = try container.decode([Block].self)
            text = blocks.compactMap { $0.type == "text" ? $0.text : nil }.joined(separator: "\n")
            other = blocks.enumerated().first { $0.element.type != "text" || $0.element.text == nil }.map { ($0.offset, $0.element.type) }
        }
    }

    private struct Wire: Decodable {
        let model: String?
        let messages: [WireMessage]?
        let system: Blocks?
        let maxTokens: Int?
        let stream: Bool?
        let temperature: Double?
        let topP: Double?
        let stopSequences: [String]?
        let metadata: Metadata?
        let tools: [Ignored]?

        struct WireMessage: Decodable {
            let role: String
            let content: Blocks
        }

        struct Metadata: Decodable {
            let userID: String?
            enum CodingKeys: String, CodingKey { case userID = "user_id" }
        }

        struct Ignored: Decodable {
            init(from decoder: any Decoder) throws {}
        }

        enum CodingKeys: String, CodingKey {
            case model, messages, system, stream, temperature, metadata, tools
            case maxTokens = "max_tokens"
            case topP = "top_p"
            case stopSequences = "stop_sequences"
        }
    }

    /// Parses and checks a body; every problem is a 400 that names the field, as Anthropic's API answers.
    init(json: Data) throws {
        let wire: Wire
        do {
            wire = try JSONDecoder().decode(Wire.self, from: json)
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context),
            DecodingError.keyNotFound(_, let context)
        {
            let field = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
            throw APIError.invalid("'\(field)' is missing or has the wrong type. \(context.debugDescription)")
        } catch {
            throw APIError.invalid(
                "The body must be a JSON object like {\"model\": \"…\", \"max_tokens\": 1024, \"messages\": [{\"role\": \"user\", \"content\": \"Hello\"}]}.")
        }
        if wire.tools?.isEmpty == false {
            throw APIError.invalid("Sluice does not pass tools to models yet; send the request without 'tools'.")
        }
        guard let maxTokens = wire.maxTokens, maxTokens >= 1 else {
            throw APIError.invalid("'max_tokens' is required, as Anthropic's API has it: the most tokens the answer may have (1 or more).")
        }
        if let temperature = wire.temperature, !(0...1).contains(temperature) {
            throw APIError.invalid("'temperature' must be between 0 and 1.")
        }
        if let topP = wire.topP, !(0...1).contains(topP) {
            throw APIError.invalid("'top_p' must be between 0 and 1.")
        }
        let stop = wire.stopSequences ?? []
        if stop.count > 4 || stop.contains(where: \.isEmpty) {
            throw APIError.invalid("'stop_sequences' takes up to 4 non-empty strings here (OpenAI-compatible models take no more).")
        }
        let endUser = wire.metadata?.userID.flatMap { $0.isEmpty ? nil : $0 }
        if let endUser, endUser.count > GatewayCall.maxEndUserCharacters {
            throw APIError.invalid(
                "'metadata.user_id' is \(endUser.count) characters long; send an id of at most \(GatewayCall.maxEndUserCharacters) characters (a hash of it will do).")
        }
        if let other = wire.system?.other {
            throw APIError.invalid("system.\(other.index) is of type '\(other.type)'; Sluice passes text blocks only.")
        }
        guard let wireMessages = wire.messages, !wireMessages.isEmpty else {
            throw APIError.invalid("'messages' must list at least one message, the last one from the user.")
        }
        var turns: [ChatMessage] = []
        for (index, message) in wireMessages.enumerated() {
            if let other = message.content.other {
                throw APIError.invalid(
                    "messages.\(index).content.\(other.index) is of type '\(other.type)'; Sluice passes text blocks only.")
            }
            switch message.role {
            case "user": turns.append(ChatMessage(role: .user, content: message.content.text))
            case "assistant": turns.append(ChatMessage(role: .assistant, content: message.content.text))
            default:
                throw APIError.invalid("messages.\(index).role '\(message.role)' is not supported; use user or assistant (and the top-level 'system').")
            }
        }
        guard let last = turns.last, last.role == .user else {
            throw APIError.invalid(
                "The last message must be the user's: Sluice answers it (a prefilled assistant turn is not supported yet).")
        }
        guard !last.content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw APIError.invalid("The last user message is empty: send some text.")
        }
        let system = wire.system.map(\.text).flatMap { $0.isEmpty ? nil : $0 }
        stream = wire.stream ?? false
        call = GatewayCall(
            model: wire.model.flatMap { $0.isEmpty ? nil : $0 }, temperature: wire.temperature, maxTokens: maxTokens,
            sampling: SamplingOptions(topP: wire.topP, stop: stop, endUser: endUser), system: system,
            history: Array(turns.dropLast()), content: last.content)
    }
}
