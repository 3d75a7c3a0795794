import Foundation
import SluiceCore

/// A `POST /v1/responses` body as OpenAI's Responses API defines it, checked: `input` (a string, or message,
/// `function_call` and `function_call_output` items), `instructions`, the caller's options, and the answer it
/// continues (`previous_response_id`). `call(after:)` makes it a `GatewayCall` once that answer's history is known.
struct ResponsesRequest: Sendable {
    var model: String?
    /// `instructions` and the input's `system` and `developer` messages, in order.
    var system: [String] = []
    /// The input's other items as chat messages (a `function_call` joins the assistant message before it).
    var turns: [ChatMessage] = []
    /// Images in the input so far (at most `ImageInput.maxPerCall`).
    private var callImages = CallImages()
    var stream = false
    var temperature: Double?
    var maxOutputTokens: Int?
    var sampling = SamplingOptions()
    var tools: ToolOptions?
    /// `resp_…`: the answer this one follows; its conversation up to it comes before `turns`.
    var previousResponseID: String?
    /// Echoed in the response, as OpenAI does; its `tags` (`"checkout,prod"`, or a list) are the call's (`CallTags`).
    var metadata: JSONValue?
    var tags: [String] = []
    /// `store` (true unless the caller says false): whether the response is kept once it ends (`GatewayCall.keep`).
    var store = true
    /// `include` asks for `reasoning.encrypted_content`: the reasoning items carry an Anthropic model's signed
    /// thinking, for a caller that keeps no state on the server (`store: false`, as Codex CLI works) to send back.
    var includesEncryptedReasoning = false
    /// `reasoning.summary` (`auto`, `concise`, `detailed`): the caller shows reasoning summaries (Codex CLI asks for
    /// them, and shows nothing else by default), so the model's thinking is given as the reasoning item's summary.
    var reasoningSummary: String?
    /// Signed thinking from `reasoning` items sent back, for the answer whose calls or text follow them.
    private var pendingThinking: [SignedThinking] = []

    init(json: Data) throws {
        let body: JSONValue
        do {
            body = try JSONValue(parsing: json)
        } catch {
            throw Self.invalid("The body must be a JSON object like {\"model\": \"…\", \"input\": \"Hello\"}.", param: nil)
        }
        guard case .object = body else {
            throw Self.invalid("The body must be a JSON object like {\"model\": \"…\", \"input\": \"Hello\"}.", param: nil)
        }
        model = try Self.string(body, "model").flatMap { $0.isEmpty ? nil : $0 }
        for (field, refusal) in [
            ("background", "Sluice answers in the request; send it without 'background' (or with false)."),
            ("conversation", "Sluice continues answers with 'previous_response_id'; send that instead of 'conversation'."),
        ] where body[field] != nil && body[field] != .null && body[field] != .bool(false) {
            throw Self.invalid(refusal, param: field)
        }
        // Log probabilities when `include` asks for them or `top_logprobs` asks for alternatives (OpenAI's two ways).
        let top = try Self.number(body, "top_logprobs")
        if let top, !(0...20).contains(top) || top != top.rounded() {
            throw Self.invalid("'top_logprobs' must be a whole number between 0 and 20.", param: "top_logprobs")
        }
        let included: [String]
        switch body["include"] {
        case nil, .null?: included = []
        case .array(let items)?:
            included = try items.map {
                guard case .string(let name) = $0 else { throw Self.invalid("'include' must list strings.", param: "include") }
                return name
            }
        default: throw Self.invalid("'include' must list strings.", param: "include")
        }
        if included.contains("message.output_text.logprobs") || (top ?? 0) > 0 { sampling.logprobs = Int(top ?? 0) }
        includesEncryptedReasoning = included.contains("reasoning.encrypted_content")
        stream = try Self.bool(body, "stream") ?? false
        temperature = try Self.number(body, "temperature")
        if let temperature, !(0...2).contains(temperature) {
            throw Self.invalid("'temperature' must be between 0 and 2.", param: "temperature")
        }
        sampling.topP = try Self.number(body, "top_p")
        if let topP = sampling.topP, !(0...1).contains(topP) { throw Self.invalid("'top_p' must be between 0 and 1.", param: "top_p") }
        if let limit = try Self.number(body, "max_output_tokens") {
            guard limit >= 1, limit == limit.rounded(), limit < 1e9 else {
                throw Self.invalid("'max_output_tokens' must be a whole number, at least 1.", param: "max_output_tokens")
            }
            maxOutputTokens = Int(limit)
        }
        let endUser = (try Self.string(body, "safety_identifier") ?? Self.string(body, "user")).flatMap { $0.isEmpty ? nil : $0 }
        if let endUser, endUser.count > GatewayCall.maxEndUserCharacters {
            throw Self.invalid(
                "'safety_identifier' is \(endUser.count) characters long; send an id of your end user of at most "
                    + "\(GatewayCall.maxEndUserCharacters) characters (a hash of it will do).", param: "safety_identifier")
        }
        sampling.endUser = endUser
        sampling.reasoning = try Self.reasoning(body["reasoning"])
        reasoningSummary = try Self.reasoningSummary(body["reasoning"])
        sampling.responseFormat = try Self.textFormat(body["text"])
        tools = try Self.tools(in: body)
        if let parallel = try Self.bool(body, "parallel_tool_calls"), tools != nil { tools?.parallelCalls = parallel }
        previousResponseID = try Self.string(body, "previous_response_id").flatMap { $0.isEmpty ? nil : $0 }
        store = try Self.bool(body, "store") ?? true
        if let metadata = body["metadata"], metadata != .null {
            guard case .object(let members) = metadata else { throw Self.invalid("'metadata' must be an object of strings.", param: "metadata") }
            self.metadata = metadata
            tags = try Self.tags(members.first { $0.key == "tags" }?.value)
        }
        if let instructions = try Self.string(body, "instructions"), !instructions.isEmpty { system.append(instructions) }
        try readInput(body["input"])
    }

    /// The call: `previous` (the conversation up to the answer it follows, if any) and this body's turns, checked as
    /// a whole — every function result answers an earlier call, and the last turn is the user's or results.
    func call(after previous: [ChatMessage]) throws -> GatewayCall {
        let all = previous + turns
        var calls = Set<String>()
        for (index, turn) in all.enumerated() {
            calls.formUnion(turn.toolCalls.map(\.id))
            if turn.role == .tool, let id = turn.toolCallID, !calls.contains(id) {
                throw Self.invalid(
                    "The function_call_output for '\(id)' answers no function_call before it (in 'input' or the previous response).",
                    param: "input.\(index - previous.count)")
            }
        }
        guard let last = all.last, last.role == .user || last.role == .tool else {
            throw Self.invalid(
                "The input must end with the user's message or function_call_output items: it is what Sluice answers.", param: "input")
        }
        if last.role == .user, last.images.isEmpty, last.content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw Self.invalid("The last user message is empty: send some text or an image.", param: "input")
        }
        if let choice = tools?.choice, case .function(let name) = choice, !(tools?.functions.contains { $0.name == name } ?? false) {
            throw Self.invalid("'tool_choice' names the function '\(name)', which is not in 'tools'.", param: "tool_choice")
        }
        var call = GatewayCall(
            model: model, temperature: temperature, maxTokens: maxOutputTokens, sampling: sampling,
            system: system.isEmpty ? nil : system.joined(separator: "\n\n"), turns: all, tools: tools)
        call.keep = store
        call.tags = tags
        return call
    }

    /// `metadata.tags`: the text `"checkout,prod"` (OpenAI's metadata holds strings) or a list of strings, checked.
    private static func tags(_ value: JSONValue?) throws -> [String] {
        let raw: [String]
        switch value {
        case nil, .null?: return []
        case .string(let text)?: raw = UsageTags.split(text)
        case .array(let items)?:
            raw = try items.map { item in
                guard case .string(let tag) = item else { throw invalid("'metadata.tags' must be strings.", param: "metadata.tags") }
                return tag
            }
        default: throw invalid("'metadata.tags' must be a string of comma-separated tags or a list of them.", param: "metadata.tags")
        }
        guard let tags = UsageTags.checked(raw) else {
            throw invalid("'metadata.tags' must be \(UsageTags.rule).", param: "metadata.tags")
        }
        return tags
    }

    // MARK: - Input

    private mutating func readInput(_ input: JSONValue?) throws {
        switch input {
        case .string(let text)?:
            turns = [ChatMessage(role: .user, content: text)]
        case .array(let items)? where !items.isEmpty:
            for (index, item) in items.enumerated() { try read(item, field: "input.\(index)") }
        default:
            throw Self.invalid("'input' must be the user's text, or a list of message and function call items.", param: "input")
        }
    }

    private mutating func read(_ item: JSONValue, field: String) throws {
        guard case .object = item else { throw Self.invalid("'\(field)' must be an object.", param: field) }
        switch try Self.string(item, "type", field: field) ?? "message" {
        case "message":
            let role = try Self.string(item, "role", field: field) ?? ""
            let (text, images) = try Self.content(of: item["content"], field: "\(field).content")
            if let refusal = callImages.admit(images.count, role: role, field: field) {
                throw Self.invalid(refusal, param: field)
            }
            switch role {
            case "system", "developer": system.append(text)
            case "user": turns.append(ChatMessage(role: .user, content: text, images: images))
            case "assistant":
                turns.append(ChatMessage(role: .assistant, content: text, thinking: pendingThinking))
                pendingThinking = []
            default:
                throw Self.invalid("'\(field).role' must be user, assistant, system or developer.", param: "\(field).role")
            }
        case "function_call":
            guard let id = try Self.string(item, "call_id", field: field), !id.isEmpty,
                let name = try Self.string(item, "name", field: field), !name.isEmpty
            else {
                throw Self.invalid("'\(field)' is a function_call without its 'call_id' and 'name'.", param: field)
            }
            let call = ToolCall(id: id, name: name, arguments: try Self.string(item, "arguments", field: field) ?? "{}")
            // The calls an answer made follow its text as items of their own; in a chat they are one message.
            if let last = turns.last, last.role == .assistant {
                turns[turns.count - 1].toolCalls.append(call)
                turns[turns.count - 1].thinking += pendingThinking
            } else {
                turns.append(ChatMessage(role: .assistant, content: "", toolCalls: [call], thinking: pendingThinking))
            }
            pendingThinking = []
        case "function_call_output":
            guard let id = try Self.string(item, "call_id", field: field), !id.isEmpty else {
                throw Self.invalid("'\(field)' is a function_call_output without the 'call_id' it answers.", param: "\(field).call_id")
            }
            // Text, or input_text and input_image parts (a screenshot tool's output), as OpenAI takes them.
            let (text, images) = try Self.content(of: item["output"], field: "\(field).output")
            // A function's images are shown to the model in the user's turn, as a user's are (and counted with them).
            if let refusal = callImages.admit(images.count, role: "user", field: "\(field).output") {
                throw Self.invalid(refusal, param: "\(field).output")
            }
            turns.append(ChatMessage(role: .tool, content: text, toolCallID: id, images: images))
        case "reasoning":
            // A model's reasoning that a client sends back: an Anthropic model's signed thinking, when the item's
            // `encrypted_content` is Sluice's, goes with the answer that follows; otherwise nothing reads it.
            if case .string(let encrypted)? = item["encrypted_content"] {
                pendingThinking += ResponsesWire.signedThinking(fromEncrypted: encrypted)
            }
        case let other:
            throw Self.invalid(
                "'\(field).type' is \(JSONText.quote(other)); Sluice passes message, function_call and function_call_output items.",
                param: "\(field).type")
        }
    }

    /// A message's text and images: `input_image` parts (`image_url` a data URL or a link, `detail`) among the text.
    private static func content(of content: JSONValue?, field: String) throws -> (String, [ImageInput]) {
        guard case .array(let parts)? = content, parts.contains(where: { $0["type"] == .string("input_image") }) else {
            return (try text(of: content, field: field), [])
        }
        var texts: [String] = []
        var images: [ImageInput] = []
        for (index, part) in parts.enumerated() {
            guard part["type"] == .string("input_image") else {
                texts.append(try text(ofPart: part, field: "\(field).\(index)"))
                continue
            }
            guard case .string(let url)? = part["image_url"] else {
                throw invalid(
                    "'\(field).\(index)' must carry its image as 'image_url' (a data URL or a link); Sluice keeps no files for 'file_id'.",
                    param: "\(field).\(index)")
            }
            var detail: String?
            if case .string(let level)? = part["detail"] { detail = level }
            do {
                images.append(try ImageInput.parse(url: url, detail: detail))
            } catch {
                throw invalid("'\(field).\(index)' \(error)", param: "\(field).\(index)")
            }
        }
        return (texts.joined(separator: "\n"), images)
    }

    /// A message's or an output's text: a string, or `input_text` / `output_text` parts (a `refusal`'s words).
    private static func text(of content: JSONValue?, field: String) throws -> String {
        switch content {
        case .string(let text)?: return text
        case .array(let parts)?:
            return try parts.enumerated().map { index, part in try text(ofPart: part, field: "\(field).\(index)") }.joined(separator: "\n")
        default:
            throw invalid("'\(field)' must be text or a list of input_text parts.", param: field)
        }
    }

    /// One `input_text` / `output_text` part's text (a `refusal`'s words).
    private static func text(ofPart part: JSONValue, field: String) throws -> String {
        switch part["type"] {
        case .string("input_text")?, .string("output_text")?, .string("text")?:
            if case .string(let text)? = part["text"] { return text }
        case .string("refusal")?:
            if case .string(let text)? = part["refusal"] { return text }
        case .string(let type)?:
            throw invalid("'\(field)' is of type '\(type)'; Sluice passes text and input_image parts only.", param: field)
        default: break
        }
        throw invalid("'\(field)' must be {\"type\": \"input_text\", \"text\": …}.", param: field)
    }

    /// `reasoning: {"effort": …}` (its `summary` is not asked of the upstream: Sluice relays the thinking it gets).
    private static func reasoning(_ value: JSONValue?) throws -> ReasoningRequest? {
        switch value {
        case nil, .null?: return nil
        case .object?:
            let effort = try string(value!, "effort", field: "reasoning")
            do {
                return try ReasoningField.effort(effort, field: "reasoning.effort")
            } catch let problem as ReasoningField.Problem {
                throw invalid(problem.message, param: problem.param)
            }
        default: throw invalid("'reasoning' must be an object like {\"effort\": \"low\"}.", param: "reasoning")
        }
    }

    /// `reasoning.summary` (or its older name `generate_summary`), checked: Sluice has no summary of its own to make,
    /// so any level gives the thinking as the model wrote it — what LiteLLM gives for a model that thinks in words.
    private static func reasoningSummary(_ value: JSONValue?) throws -> String? {
        guard case .object? = value else { return nil }
        let field = value?["summary"] != nil ? "summary" : "generate_summary"
        guard let summary = try string(value!, field, field: "reasoning") else { return nil }
        guard ["auto", "concise", "detailed"].contains(summary) else {
            throw invalid("'reasoning.\(field)' must be auto, concise or detailed.", param: "reasoning.\(field)")
        }
        return summary
    }

    static func invalid(_ message: String, param: String?) -> APIError { ChatCompletionRequest.invalid(message, param: param) }
}

extension ResponsesRequest {
    // MARK: - Fields

    static func string(_ object: JSONValue, _ key: String, field: String? = nil) throws -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        default: throw invalid("'\(field.map { "\($0)." } ?? "")\(key)' must be a string.", param: field.map { "\($0).\(key)" } ?? key)
        }
    }

    static func number(_ object: JSONValue, _ key: String) throws -> Double? {
        switch object[key] {
        case nil, .null?: return nil
        case .number(let text)?: if let value = Double(text) { return value }
        default: break
        }
        throw invalid("'\(key)' must be a number.", param: key)
    }

    static func bool(_ object: JSONValue, _ key: String) throws -> Bool? {
        switch object[key] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        default: throw invalid("'\(key)' must be true or false.", param: key)
        }
    }

    /// `text.format`: `text`, `json_object`, or `json_schema` with its `name`, `schema`, `description`, `strict`
    /// beside the type (the Responses API's flat form of Chat Completions' `response_format`).
    static func textFormat(_ text: JSONValue?) throws -> ResponseFormat? {
        guard let format = text?["format"], format != .null else { return nil }
        switch format["type"] {
        case .string("text")?: return nil
        case .string("json_object")?: return .jsonObject
        case .string("json_schema")?:
            guard case .string(let name)? = format["name"], ChatCompletionRequest.isToolName(name) else {
                throw invalid("'text.format.name' must be 1 to 64 letters, digits, '_' or '-'.", param: "text.format.name")
            }
            var schema = JSONSchemaFormat(name: name, description: try string(format, "description", field: "text.format"))
            switch format["schema"] {
            case .object?: schema.schema = format["schema"]
            default: throw invalid("'text.format.schema' must be a JSON Schema object.", param: "text.format.schema")
            }
            if case .bool(let strict)? = format["strict"] { schema.strict = strict }
            return .jsonSchema(schema)
        default:
            throw invalid(
                "'text.format' must be {\"type\": \"text\"}, {\"type\": \"json_object\"} or {\"type\": \"json_schema\", \"name\", \"schema\"}.",
                param: "text.format")
        }
    }
}
