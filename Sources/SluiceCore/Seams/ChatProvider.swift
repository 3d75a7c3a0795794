/// One message as sent to an upstream model.
public struct ChatMessage: Sendable, Equatable {
    public var role: MessageRole
    public var content: String
    /// For an assistant message: the functions it asked the caller to run (its `content` may then be empty).
    public var toolCalls: [ToolCall]
    /// For a `tool` message: the call whose result `content` is.
    public var toolCallID: String?
    /// For a user's message: the images it shows the model, after its text.
    public var images: [ImageInput]
    /// For an assistant message: an Anthropic model's signed thinking, sent back before its text and calls when the
    /// request has thinking enabled (other upstreams never see it).
    public var thinking: [SignedThinking]

    public init(
        role: MessageRole, content: String, toolCalls: [ToolCall] = [], toolCallID: String? = nil, images: [ImageInput] = [],
        thinking: [SignedThinking] = []
    ) {
        self.thinking = thinking
        self.role = role
        self.content = content
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
        self.images = images
    }
}

extension ChatMessage {
    /// The message without its signed thinking: what a caller's history is compared by.
    public var unthought: ChatMessage {
        var message = self
        message.thinking = []
        return message
    }
}

extension Array where Element == ChatMessage {
    /// Where the function-calling loop under way starts: the messages after the user's last words (the answers and
    /// function results since). Anthropic wants the signed thinking of these answers back, and only of these.
    public var loopStart: Int { (lastIndex { $0.role == .user } ?? -1) + 1 }
}

extension StringProtocol {
    /// The text without the whitespace at its end: a prefilled answer's start as it is sent (Anthropic refuses one
    /// that ends with whitespace, and a model writes its own space).
    public var withoutTrailingWhitespace: String {
        var text = self[...]
        while let character = text.last, character.isWhitespace { text.removeLast() }
        return String(text)
    }
}

/// What Sluice asks an upstream model for.
public struct ChatRequest: Sendable, Equatable {
    public var model: String
    public var messages: [ChatMessage]
    public var temperature: Double?
    public var maxTokens: Int?
    /// The caller's other sampling options, passed on as the upstream's API allows.
    public var sampling: SamplingOptions
    /// The functions the model may call and how it must choose; `nil` when the caller offered none.
    public var tools: ToolOptions?
    /// Scenario hint passed to the simulator as `X-Sluice-Scenario`; ignored by real upstreams.
    public var extraHeaders: [String: String]

    public init(
        model: String, messages: [ChatMessage], temperature: Double? = nil, maxTokens: Int? = nil,
        sampling: SamplingOptions = SamplingOptions(), tools: ToolOptions? = nil, extraHeaders: [String: String] = [:]
    ) {
        self.tools = tools
        self.model = model
        self.messages = messages
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.sampling = sampling
        self.extraHeaders = extraHeaders
    }
}

/// OpenAI's sampling options beyond temperature and the output limit, and the end user the caller named.
/// OpenAI-compatible upstreams get them all; Anthropic's Messages API gets `top_p`, the stop sequences, the response
/// format (as a tool the model must call; it has no seed or penalties), the end user as `metadata.user_id` and the
/// reasoning effort as a thinking budget.
public struct SamplingOptions: Sendable, Equatable {
    public var topP: Double?
    /// Text that ends the answer where the model would write it (not included); at most 4.
    public var stop: [String]
    public var seed: Int?
    public var presencePenalty: Double?
    public var frequencyPenalty: Double?
    /// JSON instead of prose (`response_format`); `nil` for text.
    public var responseFormat: ResponseFormat?
    /// The gateway caller's end user (`user`), sent on as OpenAI's `user` so that the upstream's abuse monitoring
    /// can tell a service's end users apart instead of blaming its one key (LiteLLM passes it on too).
    public var endUser: String?
    /// Log probabilities of the answer's tokens, with this many alternatives each (0…20); `nil` asks for none.
    /// Only OpenAI-compatible upstreams return them; Anthropic's provider refuses such a request.
    public var logprobs: Int?
    /// How hard a reasoning model should think (`reasoning_effort`, Anthropic's `thinking`); `nil` leaves it to the
    /// model. Both kinds of upstream get it, each in its own words (`ReasoningRequest`).
    public var reasoning: ReasoningRequest?

    public init(
        topP: Double? = nil, stop: [String] = [], seed: Int? = nil, presencePenalty: Double? = nil, frequencyPenalty: Double? = nil,
        responseFormat: ResponseFormat? = nil, endUser: String? = nil, logprobs: Int? = nil, reasoning: ReasoningRequest? = nil
    ) {
        self.reasoning = reasoning
        self.logprobs = logprobs
        self.endUser = endUser
        self.responseFormat = responseFormat
        self.topP = topP
        self.stop = stop
        self.seed = seed
        self.presencePenalty = presencePenalty
        self.frequencyPenalty = frequencyPenalty
    }
}

/// One thing an upstream stream can say.
public enum ProviderEvent: Sendable, Equatable {
    /// A piece of the answer's text, exactly as the upstream sent it.
    case delta(String)
    /// The log probabilities of the tokens of the `delta` that follows (only when the request asked for them).
    case logprobs([TokenLogprob])
    /// A piece of a reasoning model's thinking before (or between) its answer's text: `reasoning_content` (vLLM,
    /// llama-server, DeepSeek) or `reasoning` (OpenRouter, Ollama) in OpenAI's chunks.
    case reasoning(String)
    /// A block of thinking has ended, signed (Anthropic's `signature_delta`, its text being the `reasoning` pieces
    /// since the last block), or an encrypted block arrived (`redacted_thinking`).
    case signedThinking(SignedThinking)
    /// The upstream's own token counts.
    case usage(Usage)
    /// A piece of a function call the model makes (OpenAI's `delta.tool_calls[]`, Anthropic's `tool_use` block).
    case toolCall(ToolCallDelta)
    /// Why the upstream stopped (`stop`, `length`, `tool_calls`, ...).
    case finish(reason: String)
    /// The call waits for a free slot of the upstream; `position` is its 1-based place in the queue.
    case queued(position: Int)
    /// The call that waited (`queued`) has its slot and goes upstream now: its first-token clock starts here.
    case leftQueue
    /// A piece of a text completion (`ChatProvider.streamText`), passed on as the upstream wrote it.
    case textCompletion(TextCompletionChunk)
}

/// Why an upstream call failed, in terms the turn orchestration can map to a user-facing error.
public enum ProviderError: Error, Sendable, Equatable {
    /// The upstream answered with a non-success HTTP status before streaming.
    case http(status: Int, message: String, retryAfter: String?)
    /// The connection could not be made or broke.
    case connection(String)
    /// The stream carried an `{"error": ...}` object.
    case upstreamError(message: String)
    /// A chunk could not be understood.
    case malformed(String)
    /// Sluice did not call the upstream: it failed repeatedly and its circuit breaker is open for this long.
    case circuitOpen(upstream: String, retryAfterSeconds: Int)
    /// The upstream sent no text within Sluice's first-token timeout for the model; the attempt was abandoned.
    case firstTokenTimeout(after: Duration)

    /// Whether the upstream refused the call because its model does not see images — llama-server without a vision
    /// projector (500, "image input is not supported"), OpenAI's text models (400, "… does not support image …"),
    /// vLLM and Ollama serving a text model. A mistake in the request for this model, not a failing upstream: not
    /// retried, not counted against its circuit, and said as such.
    public var refusesImages: Bool {
        guard case .http(let status, let message, _) = self, status >= 400, status != 429 else { return false }
        let words = message.lowercased()
        return Self.imageRefusals.contains { words.contains($0) }
    }

    static let imageRefusals = [
        "image input is not supported", "does not support image", "image_url is only supported", "not a multimodal model",
        "does not support vision", "images are not supported", "vision is not supported", "model does not support images",
    ]
}

/// An upstream that streams chat completions. The OpenAI-compatible provider and the test doubles conform.
public protocol ChatProvider: Sendable {
    /// One completion, started when the stream is iterated. The stream ends after `.finish` (or when the upstream
    /// closes cleanly) and throws a `ProviderError` on failure. Cancelling the consuming task cancels the request.
    func streamChat(_ request: ChatRequest) -> ProviderStream

    /// Throws unless the upstream answers.
    func checkReady() async throws

    /// Each upstream behind this provider as `/readyz` reports it, the one upstream of a plain provider named `name`.
    /// Routers and balancers list their models' and deployments' upstreams, checked at once.
    func readiness(named name: String) async -> [UpstreamReadiness]
    /// One call to the upstream's JSON API beside chat (`/embeddings`, `/rerank`), answered whole: the answer's body;
    /// throws a `ProviderError` as a chat call does. An upstream without the API (Anthropic's) refuses with 400.
    func send(_ call: UpstreamJSONCall) async throws -> [UInt8]
    /// A text completion (`POST /v1/completions`) as `.textCompletion` events — one per streamed event, or one with
    /// the whole answer when `request.stream` is false — failing as a chat call does. An upstream without the API
    /// (Anthropic's) refuses with 400.
    func streamText(_ request: TextCompletionRequest) -> ProviderStream
}

extension ChatProvider {
    /// No such API: a 400 that says so (wrappers pass the call on to the provider they wrap instead).
    public func send(_ call: UpstreamJSONCall) async throws -> [UInt8] {
        throw ProviderError.http(status: 400, message: "The upstream of \(call.model) \(call.missing).", retryAfter: nil)
    }

    /// Vectors for `request`'s inputs (`POST /v1/embeddings`), through `send`.
    public func embed(_ request: EmbeddingRequest) async throws -> EmbeddingResponse {
        let body = try await send(UpstreamJSONCall(
            path: "embeddings", model: request.model, body: EmbeddingRequestBody.json(request),
            extraHeaders: request.extraHeaders, missing: "does not make embeddings: use an embedding model"))
        return EmbeddingResponse(body: body, promptTokens: AnswerUsage.inputTokens(in: body))
    }

    /// No text completions API: a 400 that says so (wrappers pass the call on instead).
    public func streamText(_ request: TextCompletionRequest) -> ProviderStream {
        .failing(ProviderError.http(
            status: 400,
            message: "The upstream of \(request.model) has no text completions API: use /v1/chat/completions for this model.",
            retryAfter: nil))
    }

    public func readiness(named name: String) async -> [UpstreamReadiness] {
        do {
            try await checkReady()
            return [UpstreamReadiness(name: name)]
        } catch {
            return [UpstreamReadiness(name: name, problem: "\(error)")]
        }
    }
}

extension [UpstreamReadiness] {
    /// Throws the first problem when none of these upstreams answered: a router or balancer is ready while any is.
    public func requireAnyReady() throws {
        if !contains(where: \.isReady), let problem = first?.problem { throw ProviderError.connection(problem) }
    }
}

/// One upstream as `/readyz` reports it: whether it answered a check just now, and its circuit breaker's state.
public struct UpstreamReadiness: Sendable, Equatable {
    /// The model's name, or `model@host:port` for one of a model's deployments.
    public var name: String
    /// Why it did not answer; `nil` when it did.
    public var problem: String?
    /// Its circuit breaker's state (`closed`, `open`, `half_open`), when it has one.
    public var circuit: String?

    public var isReady: Bool { problem == nil }

    public init(name: String, problem: String? = nil, circuit: String? = nil) {
        self.name = name
        self.problem = problem
        self.circuit = circuit
    }
}
