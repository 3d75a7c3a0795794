/// A call to an upstream's JSON API beside chat — `/embeddings`, `/rerank` — sent as it is and answered whole: the seam
/// of the gateway's pass-through APIs. Routers, balancers, breakers and queues treat it as they treat a chat call.
public struct UpstreamJSONCall: Sendable, Equatable {
    /// The API's path under the upstream's base URL: `embeddings`, `rerank`.
    public var path: String
    public var model: String
    /// The request's JSON, ready to send.
    public var body: [UInt8]
    /// Scenario hint for the simulator (`X-Sluice-Scenario`); ignored by real upstreams.
    public var extraHeaders: [String: String]
    /// What an upstream without the API is said to lack, after its model's name: "does not make embeddings: use an
    /// embedding model".
    public var missing: String

    public init(path: String, model: String, body: [UInt8], extraHeaders: [String: String] = [:], missing: String) {
        self.path = path
        self.model = model
        self.body = body
        self.extraHeaders = extraHeaders
        self.missing = missing
    }
}

/// The input tokens an upstream's whole JSON answer reports (`usage.prompt_tokens`, else `usage.total_tokens`: a
/// rerank answer's). An embeddings answer is mostly floats (a thousand texts of 3 072 numbers is 40 MB), which
/// `JSONDecoder` read in full to find it (about 5 % of Sluice's CPU per call): the usage comes last, so it is looked
/// for from the end, and read from there with `JSONValue`.
public enum AnswerUsage {
    public static func inputTokens(in body: [UInt8]) -> Int? {
        let key = Array(#""usage""#.utf8)
        // The last `"usage"` followed by a colon: the key, not a value such as a model's name (the vectors hold no
        // quotes).
        var start = body.count - key.count
        var colon: Int?
        while start >= 0, colon == nil {
            if body[start..<(start + key.count)].elementsEqual(key) {
                let after = body[(start + key.count)...].firstIndex { ![UInt8(ascii: " "), 10, 13, 9].contains($0) }
                if let after, body[after] == UInt8(ascii: ":") { colon = after }
            }
            start -= 1
        }
        guard let colon else { return nil }
        // The usage object: from its `{` to the matching `}` (it holds only numbers and nested objects).
        guard let open = body[(colon + 1)...].firstIndex(where: { ![UInt8(ascii: " "), 10, 13, 9].contains($0) }),
            body[open] == UInt8(ascii: "{")
        else { return nil }
        var depth = 0
        var end = open
        while end < body.count {
            if body[end] == UInt8(ascii: "{") { depth += 1 }
            if body[end] == UInt8(ascii: "}") {
                depth -= 1
                if depth == 0 { break }
            }
            end += 1
        }
        guard end < body.count, case .object(let members)? = try? JSONValue(parsing: body[open...end]) else { return nil }
        for name in ["prompt_tokens", "total_tokens"] {
            if case .number(let text)? = members.first(where: { $0.key == name })?.value { return Int(text) }
        }
        return nil
    }
}

