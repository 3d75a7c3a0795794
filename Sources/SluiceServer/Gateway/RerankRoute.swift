import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SluiceCore

/// `POST /v1/rerank`: documents ranked by their relevance to a query — Cohere's and Jina's rerank API, as LiteLLM
/// proxies it and vLLM and llama-server (`--reranking`) serve it — for retrieval pipelines (Open WebUI's hybrid search
/// with an external reranker), with the user's (and key's) model access, the budget hold before anything goes
/// upstream, rate limits, retries with `Retry-After` honoured, the model's circuit breaker and queue, and the usage and
/// cost in the ledger. The upstream's answer is passed on as it came; like an embeddings call, nothing of it is stored
/// but its ledger row.
struct RerankRoute {
    let services: PassThroughServices
    /// The response cache (`--response-cache-seconds`): an identical call — model, query, documents and the other
    /// fields — is answered with the ranking kept from the first, charged nothing.
    var responseCache: ResponseCacheSettings? = nil

    func register(on v1: RouterGroup<SluiceRequestContext>) {
        v1.post("rerank", use: rerank)
    }

    @Sendable func rerank(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let body = try await GatewayRoutes.body(of: request)
        var call = try RerankCall.parse(body.readableBytesView)
        call.model = services.gateway.model(named: call.model, for: user)
        try ModelAccess.check(user, model: call.model)
        try services.gateway.launcher.checkCapacity(model: call.model)
        let tags = try CallTags.of(request)
        let started = ContinuousClock.now
        let counted = try await count(call)
        let held = try await services.hold(
            inputTokens: counted, model: call.model, user: user, endUser: nil, apiKey: context.apiKey, tags: tags,
            wording: .documents)
        var headers = held.headers
        headers[.contentType] = "application/json"
        let upstream = UpstreamJSONCall(
            path: "rerank", model: call.model, body: call.body(model: call.model), extraHeaders: services.scenarioHeaders(request),
            missing: "does not rank documents: use a reranking model")
        let settlement = services.settlement(of: held, api: .rerank, model: call.model, started: started)
        let cache = PassThroughCache(responseCache, metrics: services.metrics, request: request, userID: user.id) {
            RerankCacheKey.of(call, extraHeaders: upstream.extraHeaders, scope: $0)
        }
        cache?.markMiss(&headers)
        if let cache, let hit = await cache.answer(model: call.model, logger: context.logger) {
            return try await cache.response(to: hit, settling: settlement, headers: headers)
        }
        let answer = try await services.call(settling: settlement, refused: Self.refused) { try await services.provider.send(upstream) }
        let tokens = AnswerUsage.inputTokens(in: answer) ?? counted ?? 0
        let cost = await settlement.answered(inputTokens: tokens)
        GatewayRoutes.tell(cost, in: &headers)
        await cache?.keep(answer, model: call.model, inputTokens: tokens, logger: context.logger)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: UsageCostField.adding(cost, to: answer))))
    }

    /// The input tokens: the query is read with each document, as a cross-encoder scores each pair; `nil` without a
    /// tokenizer, when only the upstream's count is known.
    private func count(_ call: RerankCall) async throws -> Int? {
        guard let counter = services.counter else { return nil }
        let counts = try await TextTokenCount.each([call.query] + call.documents, with: counter)
        return counts.dropFirst().reduce(0, +) + counts[0] * call.documents.count
    }

    /// The upstream would not rank these (a model that is not a reranker, a server without the API): a 400 with its
    /// reason and what to do.
    static func refused(status: Int, upstreamMessage: String) -> APIError {
        let detail = upstreamMessage.isEmpty ? " (HTTP \(status))" : " (\(upstreamMessage.prefix(300)))"
        return APIError(
            .badRequest, code: "upstream_rejected",
            message: "The model service could not rank these documents\(detail). Use a reranking model its upstream serves (for example a llama-server started with --reranking, or vLLM serving a cross-encoder).")
    }
}
