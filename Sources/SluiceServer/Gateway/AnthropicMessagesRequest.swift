import Foundation
import SluiceCore

/// A `POST /v1/messages` body as Anthropic's Messages API defines it, checked and reduced to a `GatewayCall`: the
/// top-level `system`, the earlier turns and the new user message, with the caller's options.
struct AnthropicMessagesRequest: Sendable {
    var call: GatewayCall
    var stream: Bool
    /// Whether the caller enabled extended thinking (`thinking.type` other than `disabled`): a reasoning model's
    /// thinking then comes back as `thinking` blocks, as Anthropic's API returns it only when asked.
    var showsThinking = false

    /// A message's content: text blocks `{"type":"text","text":…}` (or a plain string), an assistant's `tool_use`
    /// blocks, a user's `tool_result` and `image` blocks.
    private struct Blocks: Decodable {
        let text: String
        /// The first block that is none of those, for the error that names it.
        let other: (index: Int, type: String)?
        /// The first block inside a `tool_result` that is neither text nor an image: the result's position, its own.
        let resultOther: (result: Int, index: Int, type: String)?
        /// `tool_use` blocks with their position in the list (their `input` is read from the body in order).
        let toolUses: [(index: Int, id: String, name: String)]
        /// `tool_result` blocks: the block's position, the call's id, the result's text and its image blocks (with
        /// their position in the result's content).
        let toolResults: [(index: Int, id: String, text: String, images: [(index: Int, source: ImageSource)])]
        /// `image` blocks with their position in the list, checked by `ImageSource.image`.
        let images: [(index: Int, source: ImageSource)]
        /// An answer's `thinking` blocks that carry Anthropic's signature, and its `redacted_thinking` blocks.
        let thinking: [SignedThinking]

        /// `{"type": "base64", "media_type": …, "data": …}` or `{"type": "url", "url": …}`.
        struct ImageSource: Decodable {
            let type: String
            let mediaType: String?
            let data: String?
            let url: String?
            enum CodingKeys: String, CodingKey {
                case type, data, url
                case mediaType = "media_type"
            }

            /// The image, or a 400 that names the block and says what is wrong.
            func image(field: String) throws -> ImageInput {
                let url: String
                switch type {
                case "base64":
                    guard let mediaType, ImageInput.mediaTypes.contains(mediaType), let data else {
                        throw APIError.invalid(
                            "\(field).source must be {\"type\": \"base64\", \"media_type\": \"image/png\", \"data\": \"…\"} with a media_type of image/png, image/jpeg, image/gif or image/webp.")
                    }
                    url = "data:\(mediaType);base64,\(data)"
                case "url":
                    guard let link = self.url else { throw APIError.invalid("\(field).source of type 'url' needs 'url'.") }
                    url = link
                default:
                    throw APIError.invalid("\(field).source is of type '\(type)'; Sluice passes base64 and url images.")
                }
                do {
                    return try ImageInput.parse(url: url, detail: nil)
                } catch {
                    throw APIError.invalid("\(field) \(error)")
                }
            }
        }

        private struct Block: Decodable {
            let type: String
            let text: String?
            let id: String?
            let name: String?
            let toolUseID: String?
            let content: ResultContent?
            let isError: Bool?
            let source: ImageSource?
            let thinking: String?
            let signature: String?
            let data: String?
            enum CodingKeys: String, CodingKey {
                case type, text, id, name, content, source, thinking, signature, data
                case toolUseID = "tool_use_id"
                case isError = "is_error"
            }
        }

        /// A `tool_result`'s content: a string, or text and image blocks (a screenshot tool's result).
        private struct ResultContent: Decodable {
            let text: String
            let images: [(index: Int, source: ImageSource)]
            /// The first block that is neither, for the error that names it.
            let other: (index: Int, type: String)?

            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let text = try? container.decode(String.self) {
                    (self.text, images, other) = (text, [], nil)
                } else {
                    let blocks = try container.decode([Block].self)
                    text = blocks.compactMap { $0.type == "text" ? $0.text : nil }.joined(separator: "\n")
                    images = blocks.enumerated().compactMap { index, block in
                        block.type == "image" ? block.source.map { (index, $0) } : nil
                    }
                    other = blocks.enumerated().first { _, block in
                        !((block.type == "text" && block.text != nil) || (block.type == "image" && block.source != nil))
                    }.map { ($0.offset, $0.element.type) }
                }
            }
        }

        /// Block types that are no mistake though neither text nor a call: an earlier answer's thinking, kept (in
        /// `thinking`) when Anthropic signed it and passed over otherwise.
        static let skipped: Set<String> = ["thinking", "redacted_thinking"]

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self.text = text
                (other, toolUses, toolResults, images, resultOther, thinking) = (nil, [], [], [], nil, [])
                return
            }
            let blocks = try container.decode([Block].self)
            text = blocks.compactMap { $0.type == "text" ? $0.text : nil }.joined(separator: "\n")
            toolUses = blocks.enumerated().compactMap { index, block in
                block.type == "tool_use" ? (index, block.id ?? "", block.name ?? "") : nil
            }
            // An error the function reported is said in the result, so the model reads it as one.
            toolResults = blocks.enumerated().compactMap { index, block in
                block.type == "tool_result"
                    ? (index, block.toolUseID ?? "", (block.isError == true ? "Error: " : "") + (block.content?.text ?? ""),
                       block.content?.images ?? [])
                    : nil
            }
            images = blocks.enumerated().compactMap { index, block in
                block.type == "image" ? block.source.map { (index, $0) } : nil
            }
            // An earlier answer's thinking, which clients send back with it: kept when Anthropic signed it, for an
            // Anthropic model that thinks through a function-calling loop. Another model's (unsigned) is left out.
            thinking = blocks.compactMap {
                SignedThinking(type: $0.type, thinking: $0.thinking, signature: $0.signature, data: $0.data)
            }
            resultOther = blocks.enumerated().lazy.compactMap { index, block in
                block.type == "tool_result" ? block.content?.other.map { (index, $0.index, $0.type) } : nil
            }.first
            other = blocks.enumerated().first { _, block in
                !((block.type == "text" && block.text != nil) || (block.type == "tool_use" && block.id != nil && block.name != nil)
                    || (block.type == "tool_result" && block.toolUseID != nil) || (block.type == "image" && block.source != nil)
                    || Self.skipped.contains(block.type))
            }.map { ($0.offset, $0.element.type) }
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
        /// Only whether they are there: `tools(in:)` reads them from the body, keeping the schemas' order.
        let tools: Ignored?
        let toolChoice: Ignored?
        /// `{"type": "enabled", "budget_tokens": …}` or `{"type": "disabled"}`: what the model is asked to think, and
        /// whether the caller gets thinking blocks back.
        let thinking: ReasoningField.Thinking?

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
            case model, messages, system, stream, temperature, metadata, tools, thinking
            case toolChoice = "tool_choice"
            case maxTokens = "max_tokens"
            case topP = "top_p"
            case stopSequences = "stop_sequences"
        }
    }

    /// Parses and checks a body; every problem is a 400 that names the field, as Anthropic's API answers.
    /// `requiringMaxTokens`: false for `count_tokens`, whose body is a message's without `max_tokens`.
    init(json: Data, requiringMaxTokens: Bool = true) throws {
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
        let maxTokens = wire.maxTokens ?? (requiringMaxTokens ? nil : 1)
        guard let maxTokens, maxTokens >= 1 else {
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
        let reasoning: ReasoningRequest?
        do {
            reasoning = try wire.thinking?.request(maxTokens: wire.maxTokens)
        } catch let problem as ReasoningField.Problem {
            throw APIError.invalid(problem.message)
        }
        let endUser = wire.metadata?.userID.flatMap { $0.isEmpty ? nil : $0 }
        if let endUser, endUser.count > GatewayCall.maxEndUserCharacters {
            throw APIError.invalid(
                "'metadata.user_id' is \(endUser.count) characters long; send an id of at most \(GatewayCall.maxEndUserCharacters) characters (a hash of it will do).")
        }
        if let other = wire.system?.other {
            throw APIError.invalid("system.\(other.index) is of type '\(other.type)'; Sluice passes text blocks only.")
        }
        if let image = wire.system?.images.first {
            throw APIError.invalid("system.\(image.index) is an image; only the user's messages may show images.")
        }
        guard let wireMessages = wire.messages, !wireMessages.isEmpty else {
            throw APIError.invalid("'messages' must list at least one message, the last one from the user.")
        }
        let usesTools = wire.tools != nil || wire.toolChoice != nil || wireMessages.contains { !$0.content.toolUses.isEmpty }
        // The body as `JSONValue`, for the tools' schemas and the calls' inputs in the caller's order.
        let parsed = usesTools ? try ChatCompletionRequest.parsed(json) : nil
        var turns: [ChatMessage] = []
        var calls = Set<String>()
        var callImages = CallImages()
        for (index, message) in wireMessages.enumerated() {
            let content = message.content
            if let other = content.other {
                throw APIError.invalid(
                    "messages.\(index).content.\(other.index) is of type '\(other.type)'; Sluice passes text, image, tool_use and tool_result blocks only.")
            }
            if let other = content.resultOther {
                throw APIError.invalid(
                    "messages.\(index).content.\(other.result).content.\(other.index) is of type '\(other.type)'; a tool_result passes text and image blocks only.")
            }
            for result in content.toolResults {
                if let first = result.images.first, let refusal = callImages.admit(
                    result.images.count, role: message.role, field: "messages.\(index).content.\(result.index).content.\(first.index)")
                {
                    throw APIError.invalid(refusal)
                }
            }
            if let first = content.images.first,
                let refusal = callImages.admit(content.images.count, role: message.role, field: "messages.\(index).content.\(first.index)")
            {
                throw APIError.invalid(refusal)
            }
            let images = try content.images.map { try $0.source.image(field: "messages.\(index).content.\($0.index)") }
            switch message.role {
            case "user":
                // Results come first in a user turn, as Anthropic requires; then the user's words, if any.
                for result in content.toolResults {
                    guard calls.contains(result.id) else {
                        throw APIError.invalid(
                            "messages.\(index) has a tool_result for '\(result.id)', which no earlier assistant message's tool_use made.")
                    }
                    let images = try result.images.map {
                        try $0.source.image(field: "messages.\(index).content.\(result.index).content.\($0.index)")
                    }
                    turns.append(ChatMessage(role: .tool, content: result.text, toolCallID: result.id, images: images))
                }
                if content.toolResults.isEmpty || !content.text.isEmpty || !images.isEmpty {
                    turns.append(ChatMessage(role: .user, content: content.text, images: images))
                }
            case "assistant":
                let toolCalls = content.toolUses.map { use in
                    ToolCall(id: use.id, name: use.name, arguments: Self.input(in: parsed, message: index, block: use.index))
                }
                calls.formUnion(toolCalls.map(\.id))
                turns.append(ChatMessage(role: .assistant, content: content.text, toolCalls: toolCalls, thinking: content.thinking))
            default:
                throw APIError.invalid("messages.\(index).role '\(message.role)' is not supported; use user or assistant (and the top-level 'system').")
            }
        }
        // A final assistant turn prefills the answer: the model continues it (its thinking, if any, is not sent back:
        // a prefilled answer goes without thinking, as Anthropic requires).
        let prefill = try GatewayCall.takePrefill(
            from: &turns,
            pendingCalls: APIError.invalid("The last message has tool_use blocks: send their tool_result blocks in a user message after it."))
        guard let last = turns.last, last.role == .user || last.role == .tool else {
            throw APIError.invalid(
                "The last message must be the user's (or tool results): Sluice answers it. An assistant message after it prefills the answer.")
        }
        if last.role == .user, last.images.isEmpty, last.content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw APIError.invalid("The last user message is empty: send some text or an image.")
        }
        let system = wire.system.map(\.text).flatMap { $0.isEmpty ? nil : $0 }
        stream = wire.stream ?? false
        showsThinking = wire.thinking.map { $0.type != "disabled" } ?? false
        call = GatewayCall(
            model: wire.model.flatMap { $0.isEmpty ? nil : $0 }, temperature: wire.temperature, maxTokens: maxTokens,
            sampling: SamplingOptions(topP: wire.topP, stop: stop, endUser: endUser, reasoning: reasoning), system: system, turns: turns,
            tools: try parsed.flatMap(Self.tools), prefill: prefill)
    }

    /// A `tool_use` block's `input`, as the caller wrote it.
    private static func input(in parsed: JSONValue?, message: Int, block: Int) -> String {
        guard case .array(let messages)? = parsed?["messages"], message < messages.count,
            case .array(let blocks)? = messages[message]["content"], block < blocks.count, let input = blocks[block]["input"]
        else { return "{}" }
        return input.text
    }
}
