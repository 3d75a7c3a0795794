import SluiceCore

/// Reads a conversation's `parameters` (`ConversationParameters`) from the web API: an object of OpenAI's sampling
/// fields, each in OpenAI's range, or `null` (or `{}`) for none. A field not among them is refused by name, so that a
/// misspelt one is not dropped silently.
enum ConversationParametersField {
    static func parse(_ value: JSONValue?) throws -> ConversationParameters? {
        guard let value, value != .null else { return nil }
        guard case .object(let members) = value else {
            throw APIError.invalid(
                "'parameters' must be an object such as {\"temperature\": 0.2, \"max_tokens\": 500}, or null for none.")
        }
        let known = ConversationParameters.CodingKeys.allCases.map(\.rawValue)
        var parameters = ConversationParameters()
        for member in members {
            let name = "parameters.\(member.key)"
            if member.value == .null { continue }
            switch ConversationParameters.CodingKeys(rawValue: member.key) {
            case .temperature?: parameters.temperature = try number(member.value, name, in: 0...2)
            case .topP?: parameters.topP = try number(member.value, name, in: 0...1)
            case .frequencyPenalty?: parameters.frequencyPenalty = try number(member.value, name, in: -2...2)
            case .presencePenalty?: parameters.presencePenalty = try number(member.value, name, in: -2...2)
            case .maxTokens?: parameters.maxTokens = try integer(member.value, name, in: 1...1_000_000)
            case .seed?: parameters.seed = try integer(member.value, name, in: Int(Int32.min)...Int(Int32.max))
            case .stop?: parameters.stop = try stop(member.value, name)
            case nil:
                throw APIError.invalid("'\(name)' is not a setting Sluice keeps. Use \(known.map { "'\($0)'" }.joined(separator: ", ")).")
            }
        }
        return parameters.isEmpty ? nil : parameters
    }

    private static func number(_ value: JSONValue, _ name: String, in range: ClosedRange<Double>) throws -> Double {
        guard case .number(let text) = value, let number = Double(text), range.contains(number) else {
            throw APIError.invalid("'\(name)' must be a number from \(range.lowerBound.formatted) to \(range.upperBound.formatted).")
        }
        return number
    }

    private static func integer(_ value: JSONValue, _ name: String, in range: ClosedRange<Int>) throws -> Int {
        guard case .number(let text) = value, let number = Int(text), range.contains(number) else {
            throw APIError.invalid("'\(name)' must be a whole number from \(range.lowerBound) to \(range.upperBound).")
        }
        return number
    }

    private static func stop(_ value: JSONValue, _ name: String) throws -> [String]? {
        let texts: [JSONValue] = switch value {
        case .string: [value]
        case .array(let items): items
        default: []
        }
        let stop = texts.compactMap { if case .string(let text) = $0 { text } else { nil } }
        guard stop.count == texts.count, !texts.isEmpty || value == .array([]), stop.count <= 4,
              stop.allSatisfy({ !$0.isEmpty && $0.count <= 200 })
        else {
            throw APIError.invalid("'\(name)' must be up to 4 pieces of text (each 1–200 characters) that end an answer, such as [\"\\n\\n\"].")
        }
        return stop.isEmpty ? nil : stop
    }
}

extension Double {
    /// `2` rather than `2.0`, for messages.
    fileprivate var formatted: String { self == rounded() ? String(Int(self)) : String(self) }
}
