/// How an answer must be shaped, as OpenAI's `response_format` asks: any one JSON object, or JSON that matches
/// a schema. (Plain text is the absence of a format.)
public enum ResponseFormat: Sendable, Equatable {
    /// One JSON object, of any shape.
    case jsonObject
    /// JSON matching `schema`, named as the caller named it.
    case jsonSchema(JSONSchemaFormat)
}

/// OpenAI's `response_format.json_schema`: a name, an optional description, the schema, and whether the model
/// must follow it strictly.
public struct JSONSchemaFormat: Sendable, Equatable {
    public var name: String
    public var description: String?
    /// The JSON Schema itself (an object); `nil` when the caller gave only a name.
    public var schema: JSONValue?
    public var strict: Bool?

    public init(name: String, description: String? = nil, schema: JSONValue? = nil, strict: Bool? = nil) {
        self.name = name
        self.description = description
        self.schema = schema
        self.strict = strict
    }
}
