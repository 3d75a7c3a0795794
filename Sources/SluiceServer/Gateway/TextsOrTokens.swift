import SluiceCore

extension EmbeddingRequest.Input {
    /// A field OpenAI takes as a text, a list of texts, a list of token ids or a list of such lists (the embeddings'
    /// `input`, a text completion's `prompt`); `nil` for anything else, an empty list included.
    static func parse(_ value: JSONValue?) -> Self? {
        switch value {
        case .string(let text)?:
            return .texts([text])
        case .array(let items)? where !items.isEmpty && items.allSatisfy({ if case .string = $0 { true } else { false } }):
            return .texts(items.compactMap { if case .string(let text) = $0 { text } else { nil } })
        case .array(let items)? where !items.isEmpty && items.allSatisfy({ tokenID($0) != nil }):
            return .tokens([items.compactMap(tokenID)])
        case .array(let lists)? where !lists.isEmpty && lists.allSatisfy({ tokenIDs($0) != nil }):
            return .tokens(lists.compactMap(tokenIDs))
        default:
            return nil
        }
    }

    /// A token id: a whole number, not negative.
    private static func tokenID(_ value: JSONValue) -> Int? {
        guard case .number(let text) = value, let id = Int(text), id >= 0 else { return nil }
        return id
    }

    /// A non-empty list of token ids.
    private static func tokenIDs(_ value: JSONValue) -> [Int]? {
        guard case .array(let items) = value, !items.isEmpty else { return nil }
        let ids = items.compactMap(tokenID)
        return ids.count == items.count ? ids : nil
    }
}

/// A gateway request passed on upstream: the caller's fields after Sluice's `model` and the fields Sluice decides
/// (`decided`, JSON members already written, each starting with a comma).
enum PassedOnBody {
    static func json(model: String, decided: String = "", members: [JSONValue.Member]) -> [UInt8] {
        var out: [UInt8] = Array(#"{"model":"#.utf8)
        JSONText.appendQuoted(model, to: &out)
        out += Array(decided.utf8)
        for member in members {
            out.append(UInt8(ascii: ","))
            JSONText.appendQuoted(member.key, to: &out)
            out.append(UInt8(ascii: ":"))
            member.value.append(to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }
}

/// The body of a pass-through call (embeddings, rerank, text completions): a JSON object's members in order, by name,
/// and its `model`; a clear 400 when it is not an object or names no model.
struct PassThroughBody {
    let members: [JSONValue.Member]
    let fields: [String: JSONValue]
    let model: String

    /// `shape`: the fields the body must have, for the error (`'model' and 'input'`); `kind`: what `model` names.
    init(_ data: some Collection<UInt8>, holding shape: String, model kind: String) throws {
        guard case .object(let members)? = try? JSONValue(parsing: data) else {
            throw APIError.invalid("The body must be a JSON object with \(shape).")
        }
        var fields: [String: JSONValue] = [:]
        for member in members { fields[member.key] = member.value }
        guard case .string(let model)? = fields["model"], !model.isEmpty else {
            throw APIError.invalid("'model' is required: the name of \(kind) (GET /v1/models lists this Sluice's).")
        }
        (self.members, self.fields, self.model) = (members, fields, model)
    }
}
