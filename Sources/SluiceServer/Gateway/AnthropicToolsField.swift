import SluiceCore

extension AnthropicMessagesRequest {
    /// The body's `tools` (custom tools: `name`, `description`, `input_schema`) and `tool_choice` (`auto`, `any`,
    /// `tool` with a `name`, `none`; `disable_parallel_tool_use`), as the `ToolOptions` every upstream is asked with.
    /// Anthropic's server tools (web search, code execution, …) are refused: Sluice has none to run.
    static func tools(in parsed: JSONValue) throws -> ToolOptions? {
        var choice: ToolOptions.Choice?
        var parallel: Bool?
        switch parsed["tool_choice"] {
        case nil, .null?: break
        case .object?:
            switch parsed["tool_choice"]?["type"] {
            case .string("auto")?: choice = .auto
            case .string("any")?: choice = .required
            case .string("none")?: choice = ToolOptions.Choice.none
            case .string("tool")?:
                guard case .string(let name)? = parsed["tool_choice"]?["name"] else {
                    throw APIError.invalid("'tool_choice' of type \"tool\" needs the 'name' of one of the tools.")
                }
                choice = .function(name)
            default: throw APIError.invalid("'tool_choice.type' must be \"auto\", \"any\", \"tool\" or \"none\".")
            }
            if case .bool(true)? = parsed["tool_choice"]?["disable_parallel_tool_use"] { parallel = false }
        default: throw APIError.invalid("'tool_choice' must be an object such as {\"type\": \"auto\"}.")
        }
        guard case .array(let items)? = parsed["tools"], !items.isEmpty else {
            if choice != nil, choice != ToolOptions.Choice.none {
                throw APIError.invalid("'tool_choice' is set but 'tools' is not: send the tools the model may use.")
            }
            return nil
        }
        var names = Set<String>()
        let functions = try items.enumerated().map { index, item -> ToolOptions.Function in
            switch item["type"] {
            case nil, .null?, .string("custom")?: break
            case .string(let type)?:
                throw APIError.invalid("tools.\(index) is a '\(type)' server tool; Sluice passes custom tools (a name and an input_schema) only.")
            default: throw APIError.invalid("'tools.\(index).type' must be a string.")
            }
            guard case .string(let name)? = item["name"], ChatCompletionRequest.isToolName(name), names.insert(name).inserted else {
                throw APIError.invalid("'tools.\(index).name' must be 1 to 64 letters, digits, '_' or '-', and unique.")
            }
            var function = ToolOptions.Function(name: name)
            if case .string(let description)? = item["description"] { function.description = description }
            guard case .object? = item["input_schema"] else {
                throw APIError.invalid("'tools.\(index).input_schema' is required: a JSON Schema object for the tool's input.")
            }
            function.parameters = item["input_schema"]
            return function
        }
        if case .function(let name)? = choice, !names.contains(name) {
            throw APIError.invalid("'tool_choice' names the tool '\(name)', which is not in 'tools'.")
        }
        return ToolOptions(functions: functions, choice: choice, parallelCalls: parallel)
    }
}
