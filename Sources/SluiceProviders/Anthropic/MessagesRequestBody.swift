import Foundation
import SluiceCore

/// The JSON body of a streaming Messages request.
///
/// The Messages API has no JSON mode: a response format becomes one tool whose input schema is the caller's schema
/// (any object for `json_object`), and `tool_choice` makes the model call it, so the answer is the tool's input —
/// what LiteLLM does for Anthropic too. The stream then carries that input as `input_json_delta` pieces.
///
/// Function tools go as Anthropic's `tools` (`input_schema` is the caller's `parameters`); an assistant's calls as
/// `tool_use` blocks, their results as `tool_result` blocks of the next user turn. With function tools a response
/// format is not applied: both would be tools, and only one can be forced.
///
/// With `promptCaching`, the system prompt and the last turn carry `cache_control` (Anthropic's prompt caching, which
/// works only where a request marks it): the next turn of the conversation, which repeats this prompt, reads it
/// from the cache at a tenth of the input price instead of paying for it again. Writing costs 1.25× once; a prompt
/// under the model's minimum (1 024 tokens for most) is not cached and costs nothing more.
///
/// A reasoning effort becomes extended thinking (`thinking`, see `ExtendedThinking`); the earlier answers' signed
/// thinking then goes back in front of their text and calls, as the API wants in a function-calling loop.
struct MessagesRequestBody: Encodable {
    /// One turn of the Messages API: text, or blocks when it carries calls or results.
    struct Message: Equatable {
        let role: String
        var blocks: [Block]
    }

    enum Block: Equatable {
        case text(String)
        case toolUse(ToolCall)
        /// A function's result: its text, and the images it returned (a screenshot tool's).
        case toolResult(id: String, content: String, images: [ImageInput])
        case image(ImageInput)
        /// An earlier answer's thinking, as Anthropic signed it.
        case thinking(SignedThinking)
    }

    let model: String
    let system: String?
    let messages: [Message]
    let maxTokens: Int
    let temperature: Double?
    let topP: Double?
    let stopSequences: [String]?
    /// The end user (`SamplingOptions.endUser`), as the Messages API takes it: `{"user_id": …}`.
    let metadata: [String: String]?
    let stream = true
    /// The response format, sent as `tools` and `tool_choice` (written by `json()`, in the schema's own order).
    let responseFormat: ResponseFormat?
    /// The caller's function tools (written by `json()`).
    let tools: ToolOptions?
    /// Marks the system prompt and the last turn for Anthropic's prompt cache (written by `json()`).
    let promptCaching: Bool
    /// Extended thinking, when asked for and possible.
    let thinking: ExtendedThinking?

    /// Whether the answer is the JSON tool's input: a response format without function tools.
    static func answersThroughTool(_ request: ChatRequest) -> Bool {
        request.sampling.responseFormat != nil && request.tools == nil
    }

    /// The tool that carries a JSON answer when the format names none.
    static let jsonToolName = "json_answer"

    init(_ request: ChatRequest, defaultMaxTokens: Int, promptCaching: Bool = false) {
        self.promptCaching = promptCaching
        model = request.model
        let systemParts = request.messages.filter { $0.role == .system }.map(\.content)
        system = systemParts.isEmpty ? nil : systemParts.joined(separator: "\n\n")
        thinking = ExtendedThinking(for: request, defaultMaxTokens: defaultMaxTokens)
        messages = Self.alternating(request.messages.filter { $0.role != .system }, keepingThinking: thinking != nil)
        if let thinking {
            // With thinking the API takes no temperature but 1, and `top_p` only from 0.95: other values are left
            // out rather than refused, as LiteLLM drops them.
            maxTokens = thinking.maxTokens
            temperature = nil
            topP = request.sampling.topP.flatMap { $0 >= 0.95 ? $0 : nil }
        } else {
            maxTokens = request.maxTokens ?? defaultMaxTokens
            // The API takes 0 to 1 and refuses more, where OpenAI's range (the web app's, the gateway's) goes to 2:
            // a higher one is sent as the highest it takes, as the Vercel AI SDK and other gateways send it.
            temperature = request.temperature.map { min(max($0, 0), 1) }
            topP = request.sampling.topP
        }
        stopSequences = request.sampling.stop.isEmpty ? nil : request.sampling.stop
        metadata = request.sampling.endUser.map { ["user_id": $0] }
        tools = request.tools
        responseFormat = tools == nil ? request.sampling.responseFormat : nil
    }

    /// The body's bytes: what `Encodable` writes, then the tool for a response format, which holds the caller's
    /// schema as they wrote it (`JSONEncoder` would reorder its members).
    func json() throws -> [UInt8] {
        var out = Array(try JSONEncoder().encode(self))
        guard out.last == UInt8(ascii: "}") else { return out }
        out.removeLast()
        if let system {
            out += Array(#","system":"#.utf8)
            if promptCaching {
                out += Array(#"[{"type":"text","text":"#.utf8)
                JSONText.appendQuoted(system, to: &out)
                out += Array(#","cache_control":{"type":"ephemeral"}}]"#.utf8)
            } else {
                JSONText.appendQuoted(system, to: &out)
            }
        }
        out += Array(#","messages":"#.utf8)
        Self.append(messages, markingLast: promptCaching, to: &out)
        if let tools { Self.append(tools, to: &out) }
        guard let responseFormat else {
            out.append(UInt8(ascii: "}"))
            return out
        }
        let anyObject = #"{"type":"object"}"#
        let (name, description, schema) = switch responseFormat {
        case .jsonObject:
            (Self.jsonToolName, "Write your whole answer as this tool's input: one JSON object.", anyObject)
        case .jsonSchema(let format):
            (format.name, format.description ?? "Write your whole answer as this tool's input, following its schema.",
             format.schema?.text ?? anyObject)
        }
        out += Array(#","tools":[{"name":"#.utf8)
        JSONText.appendQuoted(name, to: &out)
        out += Array(#","description":"#.utf8)
        JSONText.appendQuoted(description, to: &out)
        out += Array(#","input_schema":"#.utf8)
        out += Array(schema.utf8)
        out += Array(#"}],"tool_choice":{"type":"tool","name":"#.utf8)
        JSONText.appendQuoted(name, to: &out)
        out += Array("}}".utf8)
        return out
    }

    /// The API wants user and assistant turns to alternate, starting with the user: neighbours with the same
    /// role are joined (texts with a blank line between them), and a conversation whose kept part starts with an
    /// answer gets a short user turn first. Function results are user turns. `keepingThinking`: the answers of the
    /// function-calling loop under way (those after the user's last words) start with their signed thinking, as the
    /// API wants; only a request that thinks may carry it. Earlier turns' thinking the API would drop unread.
    static func alternating(_ messages: [ChatMessage], keepingThinking: Bool = false) -> [Message] {
        var result: [Message] = []
        let loopStart = keepingThinking ? messages.loopStart : messages.count
        for (index, message) in messages.enumerated() {
            let role = message.role == .assistant ? "assistant" : "user"
            var blocks: [Block]
            switch message.role {
            case .tool: blocks = [.toolResult(id: message.toolCallID ?? "", content: message.content, images: message.images)]
            case .assistant:
                blocks = (index >= loopStart ? message.thinking.map(Block.thinking) : [])
                    + (message.content.isEmpty && !message.toolCalls.isEmpty ? [] : [.text(message.content)])
                    + message.toolCalls.map(Block.toolUse)
            default:
                // Images before the words about them, as Anthropic advises.
                blocks = message.images.map(Block.image) + (message.content.isEmpty && !message.images.isEmpty ? [] : [.text(message.content)])
            }
            if let last = result.last, last.role == role {
                if case .text(let earlier)? = last.blocks.last, case .text(let next)? = blocks.first {
                    result[result.count - 1].blocks[last.blocks.count - 1] = .text(earlier + "\n\n" + next)
                    blocks.removeFirst()
                }
                result[result.count - 1].blocks += blocks
            } else {
                result.append(Message(role: role, blocks: blocks))
            }
        }
        if result.first?.role == "assistant" {
            result.insert(Message(role: "user", blocks: [.text("(The conversation continues.)")]), at: 0)
        }
        // A final assistant turn (a prefill: a partial answer to continue) may not end with whitespace, Anthropic's
        // API says; the model writes the space itself.
        if let last = result.indices.last, result[last].role == "assistant", case .text(let text)? = result[last].blocks.last {
            let trimmed = text.withoutTrailingWhitespace
            if trimmed.isEmpty { result[last].blocks.removeLast() } else { result[last].blocks[result[last].blocks.count - 1] = .text(trimmed) }
            if result[last].blocks.isEmpty { result.removeLast() }
        }
        return result
    }

    /// The turns as JSON: a turn of one text as a string, others as a list of blocks. With `markingLast`, the last
    /// turn's last block carries `cache_control` — the last before a prefilled answer's start (a final assistant
    /// turn), which the next call will not send as it is.
    static func append(_ messages: [Message], markingLast: Bool = false, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        let markedIndex = !markingLast ? -1 : messages.last?.role == "assistant" ? messages.count - 2 : messages.count - 1
        for (index, message) in messages.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out += Array(#"{"role":""#.utf8) + Array(message.role.utf8) + Array(#"","content":"#.utf8)
            let marked = index == markedIndex
            if !marked, message.blocks.count == 1, case .text(let text) = message.blocks[0] {
                JSONText.appendQuoted(text, to: &out)
            } else {
                append(message.blocks, markingLast: marked, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
    }

    /// A list of blocks (a turn's, or a `tool_result`'s content); with `markingLast`, the last carries `cache_control`.
    private static func append(_ blocks: [Block], markingLast: Bool = false, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        for (index, block) in blocks.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            append(block, to: &out)
            if markingLast && index == blocks.count - 1 {
                out.removeLast()  // the block's closing brace
                out += Array(#","cache_control":{"type":"ephemeral"}}"#.utf8)
            }
        }
        out.append(UInt8(ascii: "]"))
    }

    private static func append(_ block: Block, to out: inout [UInt8]) {
        switch block {
        case .text(let text):
            out += Array(#"{"type":"text","text":"#.utf8)
            JSONText.appendQuoted(text, to: &out)
        case .toolUse(let call):
            out += Array(#"{"type":"tool_use","id":"#.utf8)
            JSONText.appendQuoted(call.id, to: &out)
            out += Array(#","name":"#.utf8)
            JSONText.appendQuoted(call.name, to: &out)
            // The API takes the input as an object: arguments that are not one (a model's slip) go as `{}`.
            out += Array(#","input":"#.utf8)
            if case .object? = try? JSONValue(parsing: Array(call.arguments.utf8)) {
                out += Array(call.arguments.utf8)
            } else {
                out += Array("{}".utf8)
            }
        case .toolResult(let id, let content, let images):
            out += Array(#"{"type":"tool_result","tool_use_id":"#.utf8)
            JSONText.appendQuoted(id, to: &out)
            out += Array(#","content":"#.utf8)
            if images.isEmpty {
                JSONText.appendQuoted(content, to: &out)
            } else {
                // Text and image blocks, as the API takes a result that shows something.
                append((content.isEmpty ? [] : [Block.text(content)]) + images.map(Block.image), to: &out)
            }
        case .image(let image):
            if let data = image.base64Payload {
                out += Array(#"{"type":"image","source":{"type":"base64","media_type":"#.utf8)
                JSONText.appendQuoted(image.mediaType ?? "image/png", to: &out)
                out += Array(#","data":"#.utf8)
                JSONText.appendQuoted(String(data), to: &out)
            } else {
                out += Array(#"{"type":"image","source":{"type":"url","url":"#.utf8)
                JSONText.appendQuoted(image.url, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .thinking(let block):
            out += Array(block.json.utf8.dropLast())  // its closing brace is written below
        }
        out.append(UInt8(ascii: "}"))
    }

    /// Function tools as Anthropic's `tools` and `tool_choice` (`required` is its `any`; no parallel calls is
    /// `disable_parallel_tool_use`).
    static func append(_ tools: ToolOptions, to out: inout [UInt8]) {
        out += Array(#","tools":["#.utf8)
        for (index, function) in tools.functions.enumerated() {
            out += Array((index == 0 ? #"{"name":"# : #",{"name":"#).utf8)
            JSONText.appendQuoted(function.name, to: &out)
            if let description = function.description {
                out += Array(#","description":"#.utf8)
                JSONText.appendQuoted(description, to: &out)
            }
            out += Array(#","input_schema":"#.utf8)
            if let parameters = function.parameters { parameters.append(to: &out) } else { out += Array(#"{"type":"object"}"#.utf8) }
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
        let single = tools.parallelCalls == false ? #","disable_parallel_tool_use":true"# : ""
        switch tools.choice {
        case .none?: out += Array(#","tool_choice":{"type":"none"}"#.utf8)
        case .required?: out += Array(#","tool_choice":{"type":"any"\#(single)}"#.utf8)
        case .function(let name)?:
            out += Array(#","tool_choice":{"type":"tool","name":"#.utf8)
            JSONText.appendQuoted(name, to: &out)
            out += Array("\(single)}".utf8)
        case .auto?, nil:
            if !single.isEmpty || tools.choice != nil { out += Array(#","tool_choice":{"type":"auto"\#(single)}"#.utf8) }
        }
    }

    enum CodingKeys: String, CodingKey {
        case model, temperature, stream, metadata, thinking
        case maxTokens = "max_tokens"
        case topP = "top_p"
        case stopSequences = "stop_sequences"
    }
}
