/// A behaviour of the simulated upstream, chosen per request by the `X-Sluice-Scenario` header or by a model
/// name `sim-<scenario>` (e.g. `sim-429`). Each is a fault a real upstream shows sooner or later.
public enum Scenario: String, CaseIterable, Sendable {
    /// A normal streamed answer with a usage chunk. A request that offers functions (and does not end with their
    /// results) is answered by calling them — the one `tool_choice` names, else the first two offered (one with
    /// `parallel_tool_calls: false`) — with `{"query": <the user's message>}`; a request that ends with results is
    /// answered with what they said (`The functions returned: <id> said <result>; …`).
    case ok
    /// 429 with `Retry-After: 1`.
    case rateLimited = "429"
    /// 429 with `Retry-After` as an HTTP-date five seconds ahead (or `X-Sluice-Stall-Ms` ahead).
    case rateLimitedUntilDate = "429-date"
    /// 429 without `Retry-After`.
    case rateLimitedBare = "429-bare"
    /// 429 with `Retry-After: 120`, longer than Sluice waits.
    case rateLimitedLong = "429-long"
    /// 502 Bad Gateway.
    case badGateway = "502"
    /// 504 Gateway Timeout.
    case gatewayTimeout = "504"
    /// 529, Anthropic's "overloaded".
    case overloaded = "529"
    /// 403 Forbidden.
    case forbidden = "403"
    /// 500 Internal Server Error.
    case serverError = "500"
    /// 503 Service Unavailable.
    case unavailable = "503"
    /// 400 Bad Request with an OpenAI-style error message.
    case badRequest = "400"
    /// 401 Unauthorized.
    case unauthorized = "401"
    /// Headers and the role chunk, then no tokens for the stall time (only keep-alive comments) before the first; a
    /// whole text completion comes after the stall time.
    case stallBeforeFirstToken = "stall-first"
    /// Half the tokens, then none for the stall time (only keep-alive comments), then the rest.
    case stallMidStream = "stall-mid"
    /// Half the tokens, then the connection is closed without ending the chunked body.
    case resetMidStream = "reset-mid"
    /// Half the tokens, then an `{"error": ...}` object in the stream.
    case errorMidStream = "error-mid"
    /// Half the tokens, then a chunk that is not JSON.
    case malformedChunk = "malformed"
    /// A normal answer without the usage chunk.
    case noUsage = "no-usage"
    /// A text completion streamed as llama-server streams one: the last chunk (the finish, with empty text) has the
    /// usage beside its choices, asked for or not, and no usage-only chunk follows; and, as llama-server's, that
    /// usage counts the output of one answer however many were written (`n`).
    case usageInLastChunk = "usage-last"
    /// A normal answer written with CRLF line ends, comment lines, and every event split into 3-byte writes
    /// (so UTF-8 characters arrive split across reads).
    case splitChunks = "split"
    /// A model that leaks: the answer quotes the system message and the caller's API key (from `Authorization`),
    /// in 4-character pieces, so that redaction across token boundaries is exercised.
    case leak
    /// The answer is the request's messages, one line each (`role: content`), and the end user the request names
    /// (`end user: …`, from OpenAI's `user` or Anthropic's `metadata.user_id`), so tests can see what went upstream.
    case echo
    /// A Markdown answer (heading, emphasis, list, table, highlighted code, links) with HTML and link tricks
    /// that must stay inert in a browser, in 4-character pieces.
    case markdown
    /// A reasoning model: first its thinking (`reasoning_content`, in 4-character pieces, one per token delay; it
    /// recalls the system message, as a model thinking aloud does), then a normal answer. The thinking counts in
    /// `completion_tokens` (and `completion_tokens_details.reasoning_tokens`), as OpenAI counts reasoning.
    case reasoning
    /// A model that does not see images, as llama-server without a vision projector answers a request with one:
    /// 500 and its words ("image input is not supported …"); a request without images is answered normally.
    case blind
    /// The answer is the request's sampling settings, one line each (`temperature: 0.2`, `top_p: …`, `seed: …`,
    /// `stop: ["…"]`, `frequency_penalty: …`, `presence_penalty: …`, `max_tokens: …`), those it sets only, so tests can
    /// see what went upstream.
    case sampling

    /// The scenario a request asks for: header first, then a `sim-` model name, else `ok`.
    public static func select(header: String?, model: String?) -> Scenario? {
        selection(header: header, model: model)?.scenario
    }

    /// Like `select`, with a repeat count: `503x2` means "503 for the first two identical requests, then ok"
    /// (identical: same scenario header and same last message, or same `sim-` model and same first user
    /// message), which is how retries and Continue are tested.
    static func selection(header: String?, model: String?) -> (scenario: Scenario, times: Int?)? {
        let text: String
        if let header {
            text = header.lowercased()
        } else if let model, model.hasPrefix("sim-") {
            text = String(model.dropFirst(4)).lowercased()
        } else {
            return (.ok, nil)
        }
        if let x = text.lastIndex(of: "x"), let times = Int(text[text.index(after: x)...]),
            let scenario = Scenario(rawValue: String(text[..<x]))
        {
            return (scenario, times)
        }
        return Scenario(rawValue: text).map { ($0, nil) }
    }
}

extension Scenario {
    /// The scenario this request gets, its repeat count applied; `nil` for an unknown scenario.
    /// - Parameters:
    ///   - messages: the request's messages as (role, content), oldest first.
    static func resolve(
        header: String?, model: String?, messages: [(role: String, content: String)], counter: AttemptCounter
    ) async -> Scenario? {
        guard let selection = selection(header: header, model: model) else { return nil }
        guard let times = selection.times else { return selection.scenario }
        // By header: identical requests (same last message), as a retry sends. By model name (a browser cannot
        // send the header): the same conversation (same first question), so a Continue counts as a repeat too.
        let message = header != nil ? messages.last?.content : messages.first { $0.role == "user" }?.content
        let key = (header ?? model ?? "") + "|" + (message ?? "")
        return await counter.next(key) > times ? .ok : selection.scenario
    }
}

/// Counts identical requests, for scenarios that fail only the first N times.
actor AttemptCounter {
    private var counts: [String: Int] = [:]

    /// Records one more request with this key and returns how many there have been, this one included.
    func next(_ key: String) -> Int {
        counts[key, default: 0] += 1
        return counts[key]!
    }
}

extension Scenario {
    /// Headers a gateway's operator adds for some upstreams — OpenRouter's `HTTP-Referer` and `X-Title`, Anthropic's
    /// `anthropic-beta` — which the `echo` scenario shows, one line each, when a request carries them.
    static let headersShownByEcho = ["HTTP-Referer", "X-Title", "anthropic-beta"]

    static func echoedHeaders(_ header: (String) -> String?) -> [String] {
        headersShownByEcho.compactMap { name in header(name).map { "header \(name): \($0)\n" } }
    }
}
