import SluiceCore

extension ResponsesRequest {
    /// The body's `tools` and `tool_choice` in the Responses API's flat form — `{"type": "function", "name",
    /// "description"?, "parameters"?, "strict"?}` and `{"type": "function", "name"}` — as the same `ToolOptions` a
    /// Chat Completions call makes. OpenAI's built-in tools (web search, file search, …) are refused: Sluice's
    /// upstreams have none.
    static func tools(in body: JSONValue) throws -> ToolOptions? {
        let choice = try ChatCompletionRequest.toolChoice(body["tool_choice"], flat: true)
        guard let tools = body["tools"], tools != .null else { return nil }
        return try ChatCompletionRequest.functions(tools, shape: "{\"type\": \"function\", \"name\": …}", read: function)
            .map { ToolOptions(functions: $0, choice: choice) }
    }

    private static func function(_ item: JSONValue, field: String) throws -> ToolOptions.Function {
        guard case .string(let type)? = item["type"], type == "function" else {
            let named = (try? string(item, "type")).flatMap { $0 }.map { " ('\($0)')" } ?? ""
            throw invalid(
                "'\(field).type' must be \"function\": Sluice passes function tools, not OpenAI's built-in ones\(named).",
                param: "\(field).type")
        }
        return try ChatCompletionRequest.functionDefinition(item, field: field)
    }
}
