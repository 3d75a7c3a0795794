import Foundation
import SluiceCore

/// The JSON of OpenAI's Responses API: the `response` object, its output items (an assistant `message` with
/// `output_text`, `function_call`s), and the events of a streamed response.
enum ResponsesWire {
    /// What a response says of the request, echoed in every `response` object.
    struct Echo: Sendable {
        var model: String
        var createdAt: Int
        var instructions: String?
        var maxOutputTokens: Int?
        var temperature: Double?
        var topP: Double?
        var tools: ToolOptions?
        var previousResponseID: String?
        var metadata: JSONValue?
        var textFormat: ResponseFormat?
        /// False for a response made with `store: false`, which is not kept.
        var store = true
        /// The alternatives asked for per token, when log probabilities were.
        var topLogprobs: Int?
        /// `reasoning.effort` as asked.
        var reasoningEffort: String?
        /// Whether reasoning items carry `encrypted_content` (`include: ["reasoning.encrypted_content"]`).
        var encryptedReasoning = false
        /// `reasoning.summary` as asked: reasoning items then give the thinking as their summary.
        var reasoningSummary: String?
        var summarizesReasoning: Bool { reasoningSummary != nil }

        init(_ request: ResponsesRequest, model: String, createdAt: Int) {
            self.model = model
            self.createdAt = createdAt
            instructions = request.system.isEmpty ? nil : request.system.joined(separator: "\n\n")
            maxOutputTokens = request.maxOutputTokens
            temperature = request.temperature
            topP = request.sampling.topP
            tools = request.tools
            previousResponseID = request.previousResponseID
            metadata = request.metadata
            textFormat = request.sampling.responseFormat
            store = request.store
            topLogprobs = request.sampling.logprobs
            reasoningEffort = request.sampling.reasoning?.openAIEffort
            encryptedReasoning = request.includesEncryptedReasoning
            reasoningSummary = request.reasoningSummary
        }

        init(model: String, createdAt: Int) {
            self.model = model
            self.createdAt = createdAt
        }
    }

    /// How a response ended: `completed`, `incomplete` (with its reason) or `failed` (with its error). `cost`: what it
    /// cost in USD, an exact decimal, `nil` for a model without a price.
    enum Ending {
        case inProgress
        case completed(usage: WireUsage, cost: String?)
        case incomplete(reason: String, usage: WireUsage, cost: String?)
        case failed(code: String, message: String)
    }

    static func responseID(_ messageID: String) -> String { "resp_" + messageID }

    /// The assistant message's id in a `resp_…` id, or `nil` when it is not one of Sluice's.
    static func messageID(_ responseID: String) -> String? {
        guard responseID.hasPrefix("resp_") else { return nil }
        let id = String(responseID.dropFirst(5))
        return id.count == 36 && id.allSatisfy({ $0.isHexDigit || $0 == "-" }) ? id : nil
    }

    /// A finish reason's ending: `length` and `content_filter` leave the response incomplete, as OpenAI's do.
    static func ending(finishReason: String?, usage: WireUsage, cost: String?) -> Ending {
        switch finishReason {
        case "length": .incomplete(reason: "max_output_tokens", usage: usage, cost: cost)
        case "content_filter": .incomplete(reason: "content_filter", usage: usage, cost: cost)
        default: .completed(usage: usage, cost: cost)
        }
    }

    /// The `response` object.
    static func response(id: String, echo: Echo, ending: Ending, output: [String]) -> String {
        let status: String
        var error = "null"
        var incomplete = "null"
        var usage = "null"
        switch ending {
        case .inProgress: status = "in_progress"
        case .completed(let used, let cost):
            status = "completed"
            usage = Self.usage(used, cost: cost)
        case .incomplete(let reason, let used, let cost):
            status = "incomplete"
            incomplete = "{\"reason\":\(JSONText.quote(reason))}"
            usage = Self.usage(used, cost: cost)
        case .failed(let code, let message):
            status = "failed"
            error = "{\"code\":\(JSONText.quote(code)),\"message\":\(JSONText.quote(message))}"
        }
        let number = { (value: Double?) in value.map { String($0) } ?? "null" }
        let tools = (echo.tools?.functions ?? []).map(function).joined(separator: ",")
        return "{\"id\":\(JSONText.quote(id)),\"object\":\"response\",\"created_at\":\(echo.createdAt),\"status\":\"\(status)\","
            + "\"background\":false,\"error\":\(error),\"incomplete_details\":\(incomplete),"
            + "\"instructions\":\(echo.instructions.map(JSONText.quote) ?? "null"),"
            + "\"max_output_tokens\":\(echo.maxOutputTokens.map(String.init) ?? "null"),\"model\":\(JSONText.quote(echo.model)),"
            + "\"output\":[\(output.joined(separator: ","))],\"parallel_tool_calls\":\(echo.tools?.parallelCalls ?? true),"
            + "\"previous_response_id\":\(echo.previousResponseID.map(JSONText.quote) ?? "null"),"
            + "\"reasoning\":{\"effort\":\(echo.reasoningEffort.map(JSONText.quote) ?? "null"),\"summary\":\(echo.reasoningSummary.map(JSONText.quote) ?? "null")},\"store\":\(echo.store),"
            + "\"temperature\":\(number(echo.temperature)),\"top_p\":\(number(echo.topP)),"
            + "\"top_logprobs\":\(echo.topLogprobs.map(String.init) ?? "null"),"
            + "\"text\":{\"format\":\(format(echo.textFormat))},\"tool_choice\":\(toolChoice(echo.tools?.choice)),\"tools\":[\(tools)],"
            + "\"usage\":\(usage),\"metadata\":\(echo.metadata?.text ?? "{}")}"
    }

    /// OpenAI's `usage`, with `cost` as on the chat completions wire (`OpenAIWire.usageJSON`).
    static func usage(_ usage: WireUsage, cost: String? = nil) -> String {
        let input = usage.inputTokens ?? 0
        let output = usage.outputTokens ?? 0
        return "{\"input_tokens\":\(input),\"input_tokens_details\":{\"cached_tokens\":\(usage.cachedInputTokens ?? 0)},\"output_tokens\":\(output),"
            + "\"output_tokens_details\":{\"reasoning_tokens\":0},\"total_tokens\":\(usage.totalTokens ?? input + output)"
            + (cost.map { ",\"cost\":" + $0 } ?? "") + "}"
    }

    /// An assistant `message` item with one `output_text` part.
    static func message(id: String, text: String, logprobs: [TokenLogprob] = [], status: String) -> String {
        "{\"id\":\(JSONText.quote(id)),\"type\":\"message\",\"status\":\"\(status)\",\"role\":\"assistant\",\"content\":[\(outputText(text, logprobs: logprobs))]}"
    }

    static func outputText(_ text: String, logprobs: [TokenLogprob] = []) -> String {
        "{\"type\":\"output_text\",\"text\":\(JSONText.quote(text)),\"annotations\":[],\"logprobs\":\(entries(logprobs))}"
    }

    /// Log probabilities as the Responses API lists them (`[{"token", "logprob", "bytes", "top_logprobs"}]`).
    static func entries(_ logprobs: [TokenLogprob]) -> String {
        "[" + logprobs.map(\.json).joined(separator: ",") + "]"
    }

    /// A `reasoning` item with the model's thinking as `reasoning_text` (as vLLM and OpenAI's open-weight models write
    /// it) — or, when the caller asked for a summary (`summarized`), as its one `summary_text`, with no `content` (as
    /// OpenAI's reasoning models and LiteLLM give it) — and, when the caller included it, `encrypted_content`: an
    /// Anthropic model's signed thinking, which the caller sends back with the item in a function-calling loop (`null`
    /// when there is none to send back).
    static func reasoningItem(
        id: String, text: String, status: String, encrypted: [SignedThinking]? = nil, summarized: Bool = false
    ) -> String {
        "{\"id\":\(JSONText.quote(id)),\"type\":\"reasoning\",\"status\":\"\(status)\","
            + "\"summary\":[\(summarized && !text.isEmpty ? summaryText(text) : "")]"
            + (encrypted.map { ",\"encrypted_content\":\(encryptedContent($0).map(JSONText.quote) ?? "null")" } ?? "")
            + (summarized ? "}" : ",\"content\":[\(reasoningText(text))]}")
    }

    static func summaryText(_ text: String) -> String {
        "{\"type\":\"summary_text\",\"text\":\(JSONText.quote(text))}"
    }

    /// What Sluice's `encrypted_content` starts with: its own, not OpenAI's (which no other upstream could read).
    static let encryptedPrefix = "sluice.thinking.v1:"

    /// Signed thinking as `encrypted_content`: Anthropic's blocks as JSON, base64-encoded (the signatures are
    /// Anthropic's to check; Sluice adds nothing secret). `nil` for none.
    static func encryptedContent(_ blocks: [SignedThinking]) -> String? {
        guard !blocks.isEmpty else { return nil }
        return encryptedPrefix + Data(("[" + blocks.map(\.json).joined(separator: ",") + "]").utf8).base64EncodedString()
    }

    /// The signed thinking in an `encrypted_content` Sluice wrote; none for another's (OpenAI's own).
    static func signedThinking(fromEncrypted text: String) -> [SignedThinking] {
        guard text.hasPrefix(encryptedPrefix), let json = Data(base64Encoded: String(text.dropFirst(encryptedPrefix.count))) else {
            return []
        }
        return (try? JSONDecoder().decode([SignedThinking].self, from: json)) ?? []
    }

    static func reasoningText(_ text: String) -> String {
        "{\"type\":\"reasoning_text\",\"text\":\(JSONText.quote(text))}"
    }

    /// A `function_call` item.
    static func functionCall(id: String, call: ToolCall, status: String) -> String {
        "{\"id\":\(JSONText.quote(id)),\"type\":\"function_call\",\"status\":\"\(status)\",\"call_id\":\(JSONText.quote(call.id)),"
            + "\"name\":\(JSONText.quote(call.name)),\"arguments\":\(JSONText.quote(call.arguments))}"
    }

    /// The output items of a whole answer: its text (if any, or if there are no calls) and its function calls.
    static func output(
        messageID: String, reasoning: String? = nil, encrypted: [SignedThinking]? = nil, summarized: Bool = false, text: String,
        logprobs: [TokenLogprob] = [], toolCalls: [ToolCall], status: String
    ) -> [String] {
        (reasoning.map {
            $0.isEmpty && (encrypted ?? []).isEmpty
                ? [] : [reasoningItem(id: "rs_" + messageID, text: $0, status: status, encrypted: encrypted, summarized: summarized)]
        } ?? [])
            + (text.isEmpty && !toolCalls.isEmpty ? [] : [message(id: "msg_" + messageID, text: text, logprobs: logprobs, status: status)])
            + toolCalls.enumerated().map { index, call in
                functionCall(id: "fc_\(messageID)_\(index)", call: call, status: status)
            }
    }

    private static func function(_ function: ToolOptions.Function) -> String {
        "{\"type\":\"function\",\"name\":\(JSONText.quote(function.name)),"
            + "\"description\":\(function.description.map(JSONText.quote) ?? "null"),"
            + "\"parameters\":\(function.parameters?.text ?? "null"),\"strict\":\(function.strict.map { "\($0)" } ?? "null")}"
    }

    private static func toolChoice(_ choice: ToolOptions.Choice?) -> String {
        switch choice {
        case nil, .auto?: "\"auto\""
        case .none?: "\"none\""
        case .required?: "\"required\""
        case .function(let name)?: "{\"type\":\"function\",\"name\":\(JSONText.quote(name))}"
        }
    }

    private static func format(_ format: ResponseFormat?) -> String {
        switch format {
        case nil: "{\"type\":\"text\"}"
        case .jsonObject?: "{\"type\":\"json_object\"}"
        case .jsonSchema(let schema)?:
            "{\"type\":\"json_schema\",\"name\":\(JSONText.quote(schema.name)),\"schema\":\(schema.schema?.text ?? "{}"),"
                + "\"strict\":\(schema.strict.map { "\($0)" } ?? "null")}"
        }
    }
}
