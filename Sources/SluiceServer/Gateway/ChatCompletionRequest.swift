import Foundation
import SluiceCore

/// A `POST /v1/chat/completions` body as OpenAI's API defines it, checked and reduced to what Sluice sends on:
/// the system instructions, the earlier turns and the new user message.
struct ChatCompletionRequest: Sendable {
    /// `system` and `developer` messages, joined, as the system prompt; the last message, which must be the user's,
    /// as the one this call answers; `top_p`, `stop`, `seed`, the penalties and `response_format` as the sampling
    /// options; `user` (or, from newer OpenAI SDKs, `safety_identifier`) as the end user, kept with the conversation
    /// for usage per end user and sent upstream; `reasoning_effort` (or Anthropic's `thinking`) as the reasoning asked.
    var call: GatewayCall
    var stream: Bool
    var includeUsage: Bool
    /// The most answers one call may ask for (`n`): each is an upstream call of its own, held and charged.
    static let maxAnswers = 16

    /// What a message of the body may look like: `content` is text or a list of parts (`{"type":"text","text":…}`).
    private struct WireMessage: Decodable {
        let role: String
        let content: Content?
        /// An assistant message's function calls.
        let toolCalls: [WireToolCall]?
        /// A `tool` message's call.
        let toolCallID: String?
        /// An assistant message's thinking as Anthropic signed it (LiteLLM's `thinking_blocks`), sent back with its
        /// calls so that an Anthropic model thinks through a function-calling loop.
        let thinkingBlocks: [WireThinking]?

        enum CodingKeys: String, CodingKey {
            case role, content
            case toolCalls = "tool_calls"
            case toolCallID = "tool_call_id"
            case thinkingBlocks = "thinking_blocks"
        }

        /// `{"type": "thinking", "thinking": …, "signature": …}` or `{"type": "redacted_thinking", "data": …}`.
        struct WireThinking: Decodable {
            let type: String
            let thinking: String?
            let signature: String?
            let data: String?

            /// The block, when it is one Anthropic signed or encrypted; another model's thinking is left out.
            var signed: SignedThinking? { SignedThinking(type: type, thinking: thinking, signature: signature, data: data) }
        }

        struct WireToolCall: Decodable {
            let id: String
            let type: String?
            let function: Function
            struct Function: Decodable {
                let name: String
                let arguments: String
            }
        }

        enum Content: Decodable {
            case text(String)
            case parts([Part])

            struct Part: Decodable {
                let type: String
                let text: String?
                let imageURL: ImageURL?

                enum CodingKeys: String, CodingKey {
                    case type, text
                    case imageURL = "image_url"
                }

                /// `{"url": …, "detail": …}`, or (as some clients send it, and LiteLLM takes) the URL alone.
                struct ImageURL: Decodable {
                    let url: String
                    let detail: String?

                    enum CodingKeys: String, CodingKey { case url, detail }

                    init(from decoder: any Decoder) throws {
                        if let url = try? decoder.singleValueContainer().decode(String.self) {
                            self.url = url
                            detail = nil
                        } else {
                            let container = try decoder.container(keyedBy: CodingKeys.self)
                            url = try container.decode(String.self, forKey: .url)
                            detail = try container.decodeIfPresent(String.self, forKey: .detail)
                        }
                    }
                }
            }

            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let text = try? container.decode(String.self) {
                    self = .text(text)
                } else {
                    self = .parts(try container.decode([Part].self))
                }
            }
        }
    }

    private struct Wire: Decodable {
        let model: String?
        let messages: [WireMessage]?
        let stream: Bool?
        let streamOptions: StreamOptions?
        let temperature: Double?
        let maxTokens: Int?
        let maxCompletionTokens: Int?
        let n: Int?
        let topP: Double?
        let stop: Stop?
        let seed: Int?
        let presencePenalty: Double?
        let frequencyPenalty: Double?
        /// Only whether they are there: `tools(in:)` reads them from the body, keeping the schemas' order.
        let tools: IgnoredValue?
        let toolChoice: IgnoredValue?
        let parallelToolCalls: Bool?
        let functions: [IgnoredValue]?
        let logprobs: Bool?
        let topLogprobs: Int?
        /// Only whether it is there: `responseFormat(in:)` reads it from the body, keeping the schema's order.
        let responseFormat: IgnoredValue?
        let user: String?
        let safetyIdentifier: String?
        /// `false`: the call is answered and charged but not kept (`GatewayCall.keep`), as on the Responses API.
        let store: Bool?
        let reasoningEffort: String?
        /// Anthropic's thinking object, which LiteLLM takes on this wire too.
        let thinking: ReasoningField.Thinking?
        /// OpenAI's metadata (strings by key), of which Sluice reads `tags` (`CallTags`).
        let metadata: CallTags.Metadata?

        struct StreamOptions: Decodable {
            let includeUsage: Bool?
            enum CodingKeys: String, CodingKey { case includeUsage = "include_usage" }
        }

        /// `stop` is one string or a list of them.
        struct Stop: Decodable {
            let texts: [String]
            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let text = try? container.decode(String.self) { texts = [text] } else { texts = try container.decode([String].self) }
            }
        }

        enum CodingKeys: String, CodingKey {
            case model, messages, stream, temperature, n, tools, functions, stop, seed, user, thinking, store, metadata
            case reasoningEffort = "reasoning_effort"
            case safetyIdentifier = "safety_identifier"
            case toolChoice = "tool_choice"
            case parallelToolCalls = "parallel_tool_calls"
            case topP = "top_p"
            case presencePenalty = "presence_penalty"
            case frequencyPenalty = "frequency_penalty"
            case streamOptions = "stream_options"
            case maxTokens = "max_tokens"
            case maxCompletionTokens = "max_completion_tokens"
            case responseFormat = "response_format"
            case logprobs
            case topLogprobs = "top_logprobs"
        }
    }

    /// Any JSON value, decoded only to see that it is there.
    private struct IgnoredValue: Decodable {
        init(from decoder: any Decoder) throws {}
    }

    /// Parses and checks a body; every problem is a 400 that names the field and what to send instead.
    init(json: Data) throws {
        let wire: Wire
        do {
            wire = try JSONDecoder().decode(Wire.self, from: json)
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context) {
            let field = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
            throw Self.invalid("'\(field)' has the wrong type. \(context.debugDescription)", param: field)
        } catch {
            throw Self.invalid("The body must be a JSON object like {\"model\": \"…\", \"messages\": [{\"role\": \"user\", \"content\": \"Hello\"}]}.", param: nil)
        }
        if wire.functions?.isEmpty == false {
            throw Self.invalid(
                "'functions' is OpenAI's deprecated form of tools; send them as 'tools': [{\"type\": \"function\", \"function\": {…}}].",
                param: "functions")
        }
        // As OpenAI checks them: alternatives only with `logprobs`, and at most 20 of them.
        if let top = wire.topLogprobs {
            guard wire.logprobs == true else {
                throw Self.invalid("'top_logprobs' needs 'logprobs': true.", param: "top_logprobs")
            }
            guard (0...20).contains(top) else {
                throw Self.invalid("'top_logprobs' must be between 0 and 20.", param: "top_logprobs")
            }
        }
        let logprobs = wire.logprobs == true ? wire.topLogprobs ?? 0 : nil
        if let n = wire.n, !(1...Self.maxAnswers).contains(n) {
            throw Self.invalid("'n' (how many answers to write) must be between 1 and \(Self.maxAnswers).", param: "n")
        }
        if let temperature = wire.temperature, !(0...2).contains(temperature) {
            throw Self.invalid("'temperature' must be between 0 and 2.", param: "temperature")
        }
        if let topP = wire.topP, !(0...1).contains(topP) {
            throw Self.invalid("'top_p' must be between 0 and 1.", param: "top_p")
        }
        for (name, value) in [("presence_penalty", wire.presencePenalty), ("frequency_penalty", wire.frequencyPenalty)] {
            if let value, !(-2...2).contains(value) { throw Self.invalid("'\(name)' must be between -2 and 2.", param: name) }
        }
        let stop = wire.stop?.texts ?? []
        if stop.count > 4 || stop.contains(where: \.isEmpty) {
            throw Self.invalid("'stop' takes up to 4 non-empty strings.", param: "stop")
        }
        let endUser = (wire.user ?? wire.safetyIdentifier).flatMap { $0.isEmpty ? nil : $0 }
        if let endUser, endUser.count > GatewayCall.maxEndUserCharacters {
            let field = wire.user != nil ? "user" : "safety_identifier"
            throw Self.invalid(
                "'\(field)' is \(endUser.count) characters long; send an id of your end user of at most \(GatewayCall.maxEndUserCharacters) characters (a hash of it will do).",
                param: field)
        }
        let reasoning: ReasoningRequest?
        do {
            if wire.reasoningEffort != nil, wire.thinking != nil {
                throw ReasoningField.Problem(message: "Send 'reasoning_effort' or 'thinking', not both.", param: "thinking")
            }
            reasoning = try wire.thinking?.request(maxTokens: nil) ?? ReasoningField.effort(wire.reasoningEffort, field: "reasoning_effort")
        } catch let problem as ReasoningField.Problem {
            throw Self.invalid(problem.message, param: problem.param)
        }
        // The body as `JSONValue`, for the fields whose JSON Schemas go on in the caller's order.
        let parsed = wire.responseFormat == nil && wire.tools == nil && wire.toolChoice == nil ? nil : try Self.parsed(json)
        let maxTokens = wire.maxCompletionTokens ?? wire.maxTokens
        if let maxTokens, maxTokens < 1 {
            throw Self.invalid("'max_tokens' must be at least 1.", param: "max_tokens")
        }
        guard let wireMessages = wire.messages, !wireMessages.isEmpty else {
            throw Self.invalid("'messages' must list at least one message, the last one from the user.", param: "messages")
        }
        var system: [String] = []
        var turns: [ChatMessage] = []
        // The calls made so far, for the results that answer them.
        var calls = Set<String>()
        var callImages = CallImages()
        for (index, message) in wireMessages.enumerated() {
            let (text, images) = try Self.content(of: message, index: index)
            if let refusal = callImages.admit(images.count, role: message.role, field: "messages.\(index).content") {
                throw Self.invalid(refusal, param: "messages.\(index).content")
            }
            switch message.role {
            case "system", "developer": system.append(text)
            case "user": turns.append(ChatMessage(role: .user, content: text, images: images))
            case "assistant":
                let toolCalls = try (message.toolCalls ?? []).enumerated().map { callIndex, call in
                    guard call.type == nil || call.type == "function" else {
                        throw Self.invalid(
                            "messages.\(index).tool_calls.\(callIndex).type is '\(call.type!)'; Sluice passes function calls only.",
                            param: "messages.\(index).tool_calls")
                    }
                    return ToolCall(id: call.id, name: call.function.name, arguments: call.function.arguments)
                }
                calls.formUnion(toolCalls.map(\.id))
                let thinking = (message.thinkingBlocks ?? []).compactMap(\.signed)
                turns.append(ChatMessage(role: .assistant, content: text, toolCalls: toolCalls, thinking: thinking))
            case "tool":
                guard let id = message.toolCallID, calls.contains(id) else {
                    throw Self.invalid(
                        "messages.\(index) is a tool result for \(message.toolCallID.map { "'\($0)'" } ?? "no 'tool_call_id'"); "
                            + "each tool message must name, in 'tool_call_id', a call of an earlier assistant message's 'tool_calls'.",
                        param: "messages.\(index).tool_call_id")
                }
                turns.append(ChatMessage(role: .tool, content: text, toolCallID: id))
            default:
                throw Self.invalid(
                    "messages.\(index).role '\(message.role)' is not supported; use system, developer, user, assistant or tool.",
                    param: "messages.\(index).role")
            }
        }
        // A final assistant message is the answer's start, which the model continues.
        let prefill = try GatewayCall.takePrefill(
            from: &turns,
            pendingCalls: Self.invalid(
                "The last message calls functions: send their results (a tool message for each of its 'tool_calls') after it.",
                param: "messages"))
        guard let last = turns.last, last.role == .user || last.role == .tool else {
            throw Self.invalid(
                "The last message (apart from system messages) must be the user's, or the results of the functions the model called: it is what Sluice answers. (An assistant message after it is taken as the start of the answer.)",
                param: "messages")
        }
        if last.role == .user, last.images.isEmpty, last.content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw Self.invalid("The last user message is empty: send some text or an image.", param: "messages")
        }
        stream = wire.stream ?? false
        includeUsage = wire.streamOptions?.includeUsage ?? false
        call = GatewayCall(
            model: wire.model.flatMap { $0.isEmpty ? nil : $0 }, temperature: wire.temperature, maxTokens: maxTokens,
            sampling: SamplingOptions(
                topP: wire.topP, stop: stop, seed: wire.seed, presencePenalty: wire.presencePenalty,
                frequencyPenalty: wire.frequencyPenalty,
                responseFormat: try parsed.flatMap(Self.responseFormat), endUser: endUser, logprobs: logprobs,
                reasoning: reasoning),
            system: system.isEmpty ? nil : system.joined(separator: "\n\n"), turns: turns, tools: try parsed.flatMap(Self.tools),
            prefill: prefill)
        call.answers = wire.n ?? 1
        if let tags = wire.metadata?.tags {
            guard let checked = UsageTags.checked(tags) else {
                throw Self.invalid("'metadata.tags' must be \(UsageTags.rule).", param: "metadata.tags")
            }
            call.tags = checked
        }
        // OpenAI keeps a completion made with `store: true` for its evals; a caller who says `false` asks that it be
        // kept nowhere, which Sluice honours as the Responses API's `store: false` (its default stays keeping it).
        call.keep = wire.store ?? true
        if let choice = call.tools?.choice, case .function(let name) = choice, !(call.tools?.functions.contains { $0.name == name } ?? false) {
            throw Self.invalid("'tool_choice' names the function '\(name)', which is not in 'tools'.", param: "tool_choice")
        }
        if let parallel = wire.parallelToolCalls, call.tools != nil { call.tools?.parallelCalls = parallel }
    }

    /// A message's text (its text parts joined by newlines) and its images, in their order.
    private static func content(of message: WireMessage, index: Int) throws -> (String, [ImageInput]) {
        switch message.content {
        case nil: return ("", [])
        case .text(let text)?: return (text, [])
        case .parts(let parts)?:
            var texts: [String] = []
            var images: [ImageInput] = []
            for (partIndex, part) in parts.enumerated() {
                let field = "messages.\(index).content.\(partIndex)"
                switch part.type {
                case "text":
                    guard let text = part.text else { throw invalid("\(field) is a text part without 'text'.", param: field) }
                    texts.append(text)
                case "image_url":
                    guard let image = part.imageURL else {
                        throw invalid("\(field) is an image part without 'image_url': {\"url\": \"data:image/png;base64,…\"}.", param: field)
                    }
                    do {
                        images.append(try ImageInput.parse(url: image.url, detail: image.detail))
                    } catch {
                        throw invalid("\(field).image_url \(error)", param: field + ".image_url")
                    }
                default:
                    throw invalid(
                        "\(field) is of type '\(part.type)'; Sluice passes text and image_url parts only.", param: field)
                }
            }
            return (texts.joined(separator: "\n"), images)
        }
    }

    static func invalid(_ message: String, param: String?) -> APIError {
        var error = APIError.invalid(message)
        error.details = "\"param\":\(param.map(JSONText.quote) ?? "null")"
        return error
    }
}
