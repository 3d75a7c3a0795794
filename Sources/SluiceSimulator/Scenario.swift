/// A behaviour of the simulated upstream, chosen per request by the `X-Sluice-Scenario` header or by a model
/// name `sim-<scenario>` (e.g. `sim-429`). Each is a fault a real upstream shows sooner or later.
public enum Scenario: String, CaseIterable, Sendable {
    /// A normal streamed answer with a usage chunk.
    case ok
    /// 429 with `Retry-After: 1`.
    case rateLimited = "429"
    /// 500 Internal Server Error.
    case serverError = "500"
    /// 503 Service Unavailable.
    case unavailable = "503"
    /// 400 Bad Request with an OpenAI-style error message.
    case badRequest = "400"
    /// 401 Unauthorized.
    case unauthorized = "401"
    /// Headers and the role chunk, then silence for the stall time before the first token.
    case stallBeforeFirstToken = "stall-first"
    /// Half the tokens, then silence for the stall time, then the rest.
    case stallMidStream = "stall-mid"
    /// Half the tokens, then the connection is closed without ending the chunked body.
    case resetMidStream = "reset-mid"
    /// Half the tokens, then an `{"error": ...}` object in the stream.
    case errorMidStream = "error-mid"
    /// Half the tokens, then a chunk that is not JSON.
    case malformedChunk = "malformed"
    /// A normal answer without the usage chunk.
    case noUsage = "no-usage"
    /// A normal answer written with CRLF line ends, comment lines, and every event split into 3-byte writes
    /// (so UTF-8 characters arrive split across reads).
    case splitChunks = "split"

    /// The scenario a request asks for: header first, then a `sim-` model name, else `ok`.
    public static func select(header: String?, model: String?) -> Scenario? {
        if let header { return Scenario(rawValue: header.lowercased()) }
        if let model, model.hasPrefix("sim-") { return Scenario(rawValue: String(model.dropFirst(4)).lowercased()) }
        return .ok
    }
}
