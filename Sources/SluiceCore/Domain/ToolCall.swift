/// A function call an assistant asked for: OpenAI's `tool_calls[]` entry, Anthropic's `tool_use` block. Sluice
/// passes tools through: the caller runs the function and sends its result back in a `tool` message.
public struct ToolCall: Sendable, Equatable, Codable {
    /// The upstream's id of the call; the result's `tool` message names it.
    public var id: String
    public var name: String
    /// The arguments as the model wrote them: JSON text, kept byte for byte (it is part of the history the caller
    /// sends back), not necessarily valid.
    public var arguments: String

    public init(id: String, name: String, arguments: String) {
        self.id = id
        self.name = name
        self.arguments = arguments
    }
}

/// One piece of a streamed function call. The first piece of a call carries its `id` and `name`; the pieces
/// after it append to its `arguments`. `index` tells parallel calls of one answer apart.
public struct ToolCallDelta: Sendable, Equatable {
    public var index: Int
    public var id: String?
    public var name: String?
    public var arguments: String

    public init(index: Int, id: String? = nil, name: String? = nil, arguments: String = "") {
        self.index = index
        self.id = id
        self.name = name
        self.arguments = arguments
    }
}

extension [ToolCall] {
    /// Adds a streamed piece to the calls it belongs to (a new index starts a call).
    public mutating func apply(_ delta: ToolCallDelta) {
        while count <= delta.index { append(ToolCall(id: "", name: "", arguments: "")) }
        if let id = delta.id, !id.isEmpty { self[delta.index].id = id }
        if let name = delta.name, !name.isEmpty { self[delta.index].name += name }
        self[delta.index].arguments += delta.arguments
    }
}

/// The functions a caller offers the model, as OpenAI's Chat Completions API takes them. Kept as the caller's
/// JSON (`JSONValue` keeps the schemas' member order) and passed on: OpenAI-compatible upstreams get it as it is,
/// Anthropic's gets it translated.
public struct ToolOptions: Sendable, Equatable {
    /// The function tools: `{"name", "description"?, "parameters"?, "strict"?}` each.
    public var functions: [Function]
    /// `tool_choice`: `auto`, `none`, `required`, or one function's name; `nil` leaves it to the upstream.
    public var choice: Choice?
    /// `parallel_tool_calls`; `nil` leaves it to the upstream.
    public var parallelCalls: Bool?

    public struct Function: Sendable, Equatable {
        public var name: String
        public var description: String?
        /// The JSON Schema of the arguments.
        public var parameters: JSONValue?
        public var strict: Bool?

        public init(name: String, description: String? = nil, parameters: JSONValue? = nil, strict: Bool? = nil) {
            self.name = name
            self.description = description
            self.parameters = parameters
            self.strict = strict
        }
    }

    public enum Choice: Sendable, Equatable {
        case auto, none, required
        case function(String)
    }

    /// What the definitions put in the prompt, for counting: each function's name, description and schema. (Each
    /// API frames them its own way; the provider's count settles the turn.)
    public var countedText: String {
        functions.map { [$0.name, $0.description ?? "", $0.parameters?.text ?? ""].joined(separator: "\n") }.joined(separator: "\n")
    }

    public init(functions: [Function], choice: Choice? = nil, parallelCalls: Bool? = nil) {
        self.functions = functions
        self.choice = choice
        self.parallelCalls = parallelCalls
    }
}

/// A message in OpenAI's shape (llama-server's `/apply-template` reads it too).
extension ChatMessage: Codable {
    private enum CodingKeys: String, CodingKey {
        case role, content, type, id, function, name, arguments
        case toolCalls = "tool_calls"
        case toolCallID = "tool_call_id"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let role = try container.decode(String.self, forKey: .role)
        guard let known = MessageRole(rawValue: role) else {
            throw DecodingError.dataCorruptedError(forKey: .role, in: container, debugDescription: "unknown role '\(role)'")
        }
        self.role = known
        content = try container.decodeIfPresent(String.self, forKey: .content) ?? ""
        toolCallID = try container.decodeIfPresent(String.self, forKey: .toolCallID)
        // Images are not part of this text-only shape (llama-server's template reads text).
        images = []
        thinking = []
        var calls: [ToolCall] = []
        if var list = try? container.nestedUnkeyedContainer(forKey: .toolCalls) {
            while !list.isAtEnd {
                let entry = try list.nestedContainer(keyedBy: CodingKeys.self)
                let function = try entry.nestedContainer(keyedBy: CodingKeys.self, forKey: .function)
                calls.append(ToolCall(
                    id: try entry.decode(String.self, forKey: .id), name: try function.decode(String.self, forKey: .name),
                    arguments: try function.decode(String.self, forKey: .arguments)))
            }
        }
        toolCalls = calls
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(role.rawValue, forKey: .role)
        if content.isEmpty, !toolCalls.isEmpty { try container.encodeNil(forKey: .content) } else { try container.encode(content, forKey: .content) }
        if !toolCalls.isEmpty {
            var calls = container.nestedUnkeyedContainer(forKey: .toolCalls)
            for call in toolCalls {
                var entry = calls.nestedContainer(keyedBy: CodingKeys.self)
                try entry.encode(call.id, forKey: .id)
                try entry.encode("function", forKey: .type)
                var function = entry.nestedContainer(keyedBy: CodingKeys.self, forKey: .function)
                try function.encode(call.name, forKey: .name)
                try function.encode(call.arguments, forKey: .arguments)
            }
        }
        if let toolCallID { try container.encode(toolCallID, forKey: .toolCallID) }
    }
}
