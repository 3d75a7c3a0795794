import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SluiceCore

/// `POST /v1/embeddings`: OpenAI's embeddings API, as LiteLLM proxies it, for retrieval and search (a RAG pipeline's
/// document vectors, Open WebUI's document search) — with the user's (and key's) model access, the budget hold
/// before anything goes upstream, rate limits, retries with `Retry-After` honoured, the model's circuit breaker and
/// queue, and the usage and cost in the ledger. The upstream's vectors are passed on as they came.
///
/// A call is not a conversation: nothing of its input is stored, and its ledger row has no conversation (the bucket
/// with the empty key when usage is grouped by conversation).
struct EmbeddingsRoute {
    let services: PassThroughServices
    /// The response cache (`--response-cache-seconds`): an identical call — model, inputs, dimensions, format — is
    /// answered with the vectors kept from the first, charged nothing, as LiteLLM caches embeddings. `Cache-Control`
    /// works as for chat calls.
    var responseCache: ResponseCacheSettings? = nil

    /// OpenAI's most inputs in one call.
    static let maxInputs = 2048

    func register(on v1: RouterGroup<SluiceRequestContext>) {
        v1.post("embeddings", use: embed)
    }

    @Sendable func embed(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let body = try await GatewayRoutes.body(of: request)
        var call = try Self.parse(body.readableBytesView)
        call.model = services.gateway.model(named: call.model, for: user)
        try ModelAccess.check(user, model: call.model)
        call.extraHeaders = services.scenarioHeaders(request)

        let tags = try CallTags.of(request)
        let started = ContinuousClock.now
        let counted = try await count(call.input)
        // (A hold is for input and at least one output token; the one is released when the call settles.)
        let held = try await services.hold(
            inputTokens: counted, model: call.model, user: user, endUser: call.endUser, apiKey: context.apiKey, tags: tags,
            wording: .texts)
        let settlement = services.settlement(of: held, api: .embeddings, model: call.model, started: started)
        let cache = PassThroughCache(responseCache, metrics: services.metrics, request: request, userID: user.id) {
            EmbeddingsCacheKey.of(call, scope: $0)
        }
        var headers = held.headers
        headers[.contentType] = "application/json"
        cache?.markMiss(&headers)
        if let cache, let hit = await cache.answer(model: call.model, logger: context.logger) {
            return try await cache.response(to: hit, settling: settlement, headers: headers)
        }
        let response = try await services.call(settling: settlement, refused: Self.refused) { try await services.provider.embed(call) }
        let tokens = response.promptTokens ?? counted ?? 0
        let cost = await settlement.answered(inputTokens: tokens)
        GatewayRoutes.tell(cost, in: &headers)
        await cache?.keep(response.body, model: call.model, inputTokens: tokens, logger: context.logger)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: UsageCostField.adding(cost, to: response.body))))
    }

    /// The input tokens, counted with the model family's tokenizer (token ids are their own count); `nil` without a
    /// tokenizer, when only the upstream's count is known.
    private func count(_ input: EmbeddingRequest.Input) async throws -> Int? {
        switch input {
        case .tokens(let inputs): return inputs.reduce(0) { $0 + $1.count }
        case .texts(let texts):
            guard let counter = services.counter else { return nil }
            return try await TextTokenCount.each(texts, with: counter).reduce(0, +)
        }
    }

    /// The upstream would not make these embeddings (a chat model, an unknown name, a server without an embeddings
    /// API such as a `llama-server` started without `--embeddings`): a 400 with its reason and what to do.
    static func refused(status: Int, upstreamMessage: String) -> APIError {
        let detail = upstreamMessage.isEmpty ? " (HTTP \(status))" : " (\(upstreamMessage.prefix(300)))"
        return APIError(
            .badRequest, code: "upstream_rejected",
            message: "The model service could not make these embeddings\(detail). Use an embedding model its upstream serves (for example text-embedding-3-small on OpenAI, or a llama-server started with --embeddings).")
    }

    /// The request's fields as OpenAI defines them; a clear 400 for anything else.
    static func parse(_ data: some Collection<UInt8>) throws -> EmbeddingRequest {
        let body = try PassThroughBody(data, holding: "'model' and 'input'", model: "an embedding model")
        let (fields, model) = (body.fields, body.model)
        guard let input = EmbeddingRequest.Input.parse(fields["input"]) else {
            if case .array(let items)? = fields["input"], items.isEmpty {
                throw APIError.invalid("'input' is empty: send at least one text.")
            }
            throw APIError.invalid("'input' must be a text, a list of texts, a list of token ids or a list of such lists.")
        }
        guard input.count <= maxInputs else {
            throw APIError.invalid("'input' has \(input.count) items; send at most \(maxInputs) in one call.")
        }
        switch input {
        case .texts(let texts) where texts.contains(where: \.isEmpty):
            throw APIError.invalid("'input' has an empty text: every text must have something to embed.")
        case .tokens(let tokens) where tokens.contains(where: \.isEmpty):
            throw APIError.invalid("'input' has an empty list of token ids.")
        default: break
        }
        var request = EmbeddingRequest(model: model, input: input)
        switch fields["dimensions"] {
        case nil, .null?: break
        case .number(let text)? where Int(text).map({ $0 > 0 }) == true: request.dimensions = Int(text)
        default: throw APIError.invalid("'dimensions' must be a positive whole number.")
        }
        switch fields["encoding_format"] {
        case nil, .null?: break
        case .string(let format)? where format == "float" || format == "base64": request.encodingFormat = format
        default: throw APIError.invalid("'encoding_format' must be \"float\" or \"base64\".")
        }
        switch fields["user"] {
        case nil, .null?: break
        case .string(let user)? where user.count > GatewayCall.maxEndUserCharacters:
            throw APIError.invalid(
                "'user' is \(user.count) characters long; send an id of your end user of at most \(GatewayCall.maxEndUserCharacters) characters (a hash of it will do).")
        case .string(let user)?: request.endUser = user.isEmpty ? nil : user
        default: throw APIError.invalid("'user' must be a text.")
        }
        return request
    }
}
