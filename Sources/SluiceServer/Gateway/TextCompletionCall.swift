import SluiceCore

/// A `POST /v1/completions` request as OpenAI defines it: what Sluice reads from it (model, prompts, output limit,
/// streaming, end user) and the caller's other fields, passed on as they came.
struct TextCompletionCall: Sendable {
    /// The prompts (texts or token ids, as the embeddings' inputs): each is continued on its own.
    typealias Prompts = EmbeddingRequest.Input

    var model: String
    var prompts: Prompts
    /// The text after the completion (fill-in-the-middle), screened and counted with the prompt.
    var suffix: String?
    /// The most tokens per choice (OpenAI's default is 16); 0 is allowed with `echo`, to score a prompt.
    var maxTokens: Int
    /// Answers per prompt (`n`, or `best_of` when larger: those are generated too).
    var perPrompt: Int
    var stream: Bool
    /// Whether the caller asked for the usage chunk (`stream_options.include_usage`).
    var includeUsage: Bool
    var endUser: String?
    /// Every other field of the request, in its order.
    var passedOn: [JSONValue.Member]

    /// Answers generated in all: the output the hold reserves is this many times `maxTokens`.
    var choices: Int { prompts.count * perPrompt }

    /// The most answers one call may ask for (prompts × `n`).
    static let maxChoices = 128

    /// The body sent upstream: the caller's fields, with Sluice's model, output limit and streaming (always with
    /// the usage chunk, so that the call is charged what the upstream counted).
    func body(model: String, maxTokens: Int) -> [UInt8] {
        let streaming = stream ? #","stream":true,"stream_options":{"include_usage":true}"# : #","stream":false"#
        return PassedOnBody.json(model: model, decided: #","max_tokens":\#(maxTokens)"# + streaming, members: passedOn)
    }

    /// The request's fields; a clear 400 for anything OpenAI would refuse.
    static func parse(_ data: some Collection<UInt8>) throws -> TextCompletionCall {
        let body = try PassThroughBody(data, holding: "'model' and 'prompt'", model: "a model")
        let (members, fields, model) = (body.members, body.fields, body.model)
        guard let prompts = Prompts.parse(fields["prompt"]) else {
            if fields["prompt"] == nil || fields["prompt"] == .null {
                throw APIError.invalid("'prompt' is required: the text to continue.")
            }
            throw APIError.invalid("'prompt' must be a text, a list of texts, a list of token ids or a list of such lists.")
        }
        let echo = fields["echo"].map { $0 == .bool(true) } ?? false
        let maxTokens: Int
        switch fields["max_tokens"] {
        case nil, .null?: maxTokens = 16
        case .number(let text)? where Int(text).map({ $0 >= (echo ? 0 : 1) }) == true: maxTokens = Int(text) ?? 16
        default:
            throw APIError.invalid("'max_tokens' must be a whole number from 1 (from 0 with 'echo', to score a prompt).")
        }
        let n = try count(fields["n"], name: "n")
        let bestOf = try count(fields["best_of"], name: "best_of")
        if let n, let bestOf, bestOf < n { throw APIError.invalid("'best_of' must be at least 'n'.") }
        let perPrompt = max(n ?? 1, bestOf ?? 1)
        guard prompts.count * perPrompt <= maxChoices else {
            throw APIError.invalid(
                "This call asks for \(prompts.count * perPrompt) answers (prompts × n); ask for at most \(maxChoices) in one call.")
        }
        let stream: Bool
        switch fields["stream"] {
        case nil, .null?: stream = false
        case .bool(let value)?: stream = value
        default: throw APIError.invalid("'stream' must be true or false.")
        }
        var includeUsage = false
        switch fields["stream_options"] {
        case nil, .null?: break
        case .object(let options)?:
            includeUsage = options.contains { $0.key == "include_usage" && $0.value == .bool(true) }
        default: throw APIError.invalid("'stream_options' must be an object such as {\"include_usage\": true}.")
        }
        var suffix: String?
        switch fields["suffix"] {
        case nil, .null?: break
        case .string(let text)?: suffix = text
        default: throw APIError.invalid("'suffix' must be a text.")
        }
        var endUser: String?
        switch fields["user"] {
        case nil, .null?: break
        case .string(let user)? where user.count > GatewayCall.maxEndUserCharacters:
            throw APIError.invalid(
                "'user' is \(user.count) characters long; send an id of your end user of at most \(GatewayCall.maxEndUserCharacters) characters (a hash of it will do).")
        case .string(let user)?: endUser = user.isEmpty ? nil : user
        default: throw APIError.invalid("'user' must be a text.")
        }
        let decided: Set<String> = ["model", "max_tokens", "stream", "stream_options"]
        return TextCompletionCall(
            model: model, prompts: prompts, suffix: suffix, maxTokens: maxTokens, perPrompt: perPrompt, stream: stream,
            includeUsage: includeUsage, endUser: endUser, passedOn: members.filter { !decided.contains($0.key) })
    }

    /// `n` or `best_of`: a whole number from 1, or absent.
    private static func count(_ value: JSONValue?, name: String) throws -> Int? {
        switch value {
        case nil, .null?: return nil
        case .number(let text)? where Int(text).map({ $0 >= 1 }) == true: return Int(text)
        default: throw APIError.invalid("'\(name)' must be a whole number from 1.")
        }
    }
}
