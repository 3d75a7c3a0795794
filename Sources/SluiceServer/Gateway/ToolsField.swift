import SluiceCore

extension ChatCompletionRequest {
    /// The body's `tools` and `tool_choice`, checked: function tools only, each with a valid name and, if any, an
    /// object for its parameters' schema (kept in the caller's order). `nil` when there are no tools; a
    /// `tool_choice` without them is refused, as OpenAI does.
    static func tools(in parsed: JSONValue) throws -> ToolOptions? {
        let choice = try toolChoice(parsed["tool_choice"])
        guard let tools = parsed["tools"], tools != .null else {
            if choice != nil {
                throw invalid("'tool_choice' is set but 'tools' is not: send the functions the model may call.", param: "tool_choice")
            }
            return nil
        }
        return try functions(tools, shape: "{\"type\": \"function\", \"function\": {\"name\": …}}", read: function)
            .map { ToolOptions(functions: $0, choice: choice) }
    }

    /// `tools`' items as functions, each read by `read` with its field (`tools.N`), no two of one name; `nil` for an
    /// empty list. `shape` is an item's form, for the error when `tools` is no list.
    static func functions(
        _ tools: JSONValue, shape: String, read: (JSONValue, String) throws -> ToolOptions.Function
    ) throws -> [ToolOptions.Function]? {
        guard case .array(let items) = tools else {
            throw invalid("'tools' must be a list of \(shape).", param: "tools")
        }
        if items.isEmpty { return nil }
        let functions = try items.enumerated().map { index, item in try read(item, "tools.\(index)") }
        var names = Set<String>()
        for (index, function) in functions.enumerated() where !names.insert(function.name).inserted {
            throw invalid("'tools' has two functions named '\(function.name)'; give each its own name.", param: "tools.\(index)")
        }
        return functions
    }

    private static func function(_ item: JSONValue, field: String) throws -> ToolOptions.Function {
        guard case .string(let type)? = item["type"], type == "function" else {
            throw invalid(
                "'\(field).type' must be \"function\": Sluice passes function tools (not OpenAI's built-in ones).",
                param: "\(field).type")
        }
        guard case .object? = item["function"], let body = item["function"] else {
            throw invalid("'\(field).function' must be an object with a 'name'.", param: "\(field).function")
        }
        return try functionDefinition(body, field: "\(field).function")
    }

    /// A function's `name`, `description`, `parameters` and `strict`, checked, from the object `field` names: Chat
    /// Completions' `tools.N.function`, or the Responses API's flat `tools.N`.
    static func functionDefinition(_ body: JSONValue, field: String) throws -> ToolOptions.Function {
        guard case .string(let name)? = body["name"], isToolName(name) else {
            throw invalid("'\(field).name' must be 1 to 64 letters, digits, '_' or '-'.", param: "\(field).name")
        }
        var function = ToolOptions.Function(name: name)
        switch body["description"] {
        case nil, .null?: break
        case .string(let description)?: function.description = description
        default: throw invalid("'\(field).description' must be a string.", param: "\(field).description")
        }
        switch body["parameters"] {
        case nil, .null?: break
        case .object?: function.parameters = body["parameters"]
        default: throw invalid("'\(field).parameters' must be a JSON Schema object.", param: "\(field).parameters")
        }
        switch body["strict"] {
        case nil, .null?: break
        case .bool(let strict)?: function.strict = strict
        default: throw invalid("'\(field).strict' must be true or false.", param: "\(field).strict")
        }
        return function
    }

    /// `tool_choice`: `auto`, `none`, `required`, or one function — `{"type": "function", "function": {"name"}}`, or
    /// in the Responses API's `flat` form `{"type": "function", "name"}`.
    static func toolChoice(_ value: JSONValue?, flat: Bool = false) throws -> ToolOptions.Choice? {
        switch value {
        case nil, .null?: return nil
        case .string("auto")?: return .auto
        case .string("none")?: return ToolOptions.Choice.none
        case .string("required")?: return .required
        case .object?:
            if case .string("function")? = value?["type"], case .string(let name)? = flat ? value?["name"] : value?["function"]?["name"] {
                return .function(name)
            }
        default: break
        }
        let function = flat ? "{\"type\": \"function\", \"name\": …}" : "{\"type\": \"function\", \"function\": {\"name\": …}}"
        throw invalid("'tool_choice' must be \"auto\", \"none\", \"required\" or \(function).", param: "tool_choice")
    }
}
