import Foundation
import SluiceCore

extension ChatCompletionRequest {
    /// The body as `JSONValue`, which keeps an object's members in order.
    static func parsed(_ body: Data) throws -> JSONValue {
        do {
            return try JSONValue(parsing: body)
        } catch {
            // JSONDecoder read the body; this parser is stricter only about nesting deeper than 128 levels.
            throw invalid("The body is not JSON that Sluice can read (at byte \(error.offset)).", param: nil)
        }
    }

    /// The body's `response_format`, checked: `text` (or `null`) asks for nothing, `json_object` for one JSON object,
    /// `json_schema` for JSON following `json_schema.schema`. The schema is read with `JSONValue` so that it goes
    /// upstream with its members in the caller's order (the order a constrained model writes the fields in).
    static func responseFormat(in parsed: JSONValue) throws -> ResponseFormat? {
        guard let format = parsed["response_format"], format != .null else { return nil }
        guard case .string(let type)? = format["type"] else {
            throw invalid(
                "'response_format' must be an object with a 'type': \"text\", \"json_object\" or \"json_schema\".",
                param: "response_format")
        }
        switch type {
        case "text":
            return nil
        case "json_object":
            return .jsonObject
        case "json_schema":
            return .jsonSchema(try jsonSchema(format["json_schema"]))
        default:
            throw invalid(
                "'response_format.type' is \(JSONText.quote(type)); use \"text\", \"json_object\" or \"json_schema\".",
                param: "response_format.type")
        }
    }

    private static func jsonSchema(_ value: JSONValue?) throws -> JSONSchemaFormat {
        let field = "response_format.json_schema"
        guard case .object? = value, let value else {
            throw invalid("'\(field)' must be an object with a 'name' and a 'schema'.", param: field)
        }
        guard case .string(let name)? = value["name"], isToolName(name) else {
            throw invalid("'\(field).name' must be 1 to 64 letters, digits, '_' or '-'.", param: "\(field).name")
        }
        var format = JSONSchemaFormat(name: name)
        switch value["schema"] {
        case nil, .null?: break
        case .object?: format.schema = value["schema"]
        default: throw invalid("'\(field).schema' must be a JSON Schema object.", param: "\(field).schema")
        }
        switch value["description"] {
        case nil, .null?: break
        case .string(let description)?: format.description = description
        default: throw invalid("'\(field).description' must be a string.", param: "\(field).description")
        }
        switch value["strict"] {
        case nil, .null?: break
        case .bool(let strict)?: format.strict = strict
        default: throw invalid("'\(field).strict' must be true or false.", param: "\(field).strict")
        }
        return format
    }

    /// OpenAI's rule for the name, which is also what Anthropic allows for the tool that carries the answer.
    static func isToolName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count)
            && name.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            }
    }
}
