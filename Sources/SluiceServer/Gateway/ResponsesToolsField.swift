import SluiceCore

extension ResponsesRequest {
    /// The body's `tools` and `tool_choice` in the Responses API's flat form — `{"type": "function", "name",
    /// "description"?, "parameters"?, "strict"?}` and `{"type": "function", "name"}` — as the same `ToolOptions` a
    /// Chat Completions call makes. OpenAI's built-in tools (web search, file search, …) are refused: Sluice's
    /// upstreams have none.
    static func tools(in body: JSONValue) throws -> ToolOptions? {
        let choice = try toolChoice(body["tool_choice"])
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

    private static func toolChoice(_ value: JSONValue?) throws -> ToolOptions.Choice? {
        switch value {
        case nil, .null?: return nil
        case .string("auto")?: return .auto
        case .string("none")?: return ToolOptions.Choice.none
        case .string("required")?: return .required
        case .object?:
            if case .string("function")? = value?["type"], case .string(let name)? = value?["name"] { return .function(name) }
        default: break
        }
        throw invalid(
            "'tool_choice' must be \"auto\", \"none\", \"required\" or {\"type\": \"function\", \"name\": …}.", param: "tool_choice")
    }
}
