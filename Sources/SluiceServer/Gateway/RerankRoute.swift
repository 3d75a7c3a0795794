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
    let gateway: GatewayRoutes
    let provider: any ChatProvider
    let budget: TurnBudget
    let budgets: (any BudgetStore)?
    let counter: (any PromptCounter)?
    let catalog: ModelCatalog
    let retryPolicy: RetryPolicy
    let sleeper: any Sleeper
    let metrics: SluiceMetrics
    let forwardScenarioHeader: Bool

    func register(on v1: RouterGroup<SluiceRequestContext>) {
        v1.post("rerank", use: rerank)
    }

    @Sendable func rerank(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let body = try await GatewayRoutes.body(of: request)
        var call = try RerankCall.parse(body.readableBytesView)
        call.model = gateway.model(named: call.model, for: user)
        try ModelAccess.check(user, model: call.model)
        try gateway.launcher.checkCapacity(model: call.model)
        let started = ContinuousClock.now
        let counted = try await count(call)
        // Held before the call, as a chat turn's input: a call that does not fit the budget never goes upstream.
        let held = try await budget.hold(
            ChatRequest(model: call.model, messages: [], maxTokens: 1), inputTokens: counted ?? 0, user: user,
            conversationID: "", messageID: Identifier.make(), apiKey: context.apiKey, wording: .documents)
        var headers: HTTPFields = [.contentType: "application/json"]
        RateLimits.addHeaders(of: [held.hold?.rateLimits, held.hold?.keyRateLimits].compactMap { $0 }, to: &headers, now: Date())
        let upstream = UpstreamJSONCall(
            path: "rerank", model: call.model, body: call.body(model: call.model),
            extraHeaders: TurnLauncher.scenarioHeaders(request, forward: forwardScenarioHeader),
            missing: "does not rank documents: use a reranking model")
        let settlement = PassThroughSettlement(
            budgets: budgets, hold: held.hold, metrics: metrics, api: .rerank, model: call.model,
            price: catalog.price(for: call.model) ?? .free, started: started)
        let answer: [UInt8]
        do {
            answer = try await GatewayRetries(policy: retryPolicy, sleeper: sleeper, metrics: metrics)
                .run(refused: Self.refused) { try await provider.send(upstream) }
        } catch {
            try await settlement.failed()
            throw error
        }
        try await settlement.answered(inputTokens: AnswerUsage.inputTokens(in: answer) ?? counted ?? 0)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: answer)))
    }

    /// The input tokens: the query is read with each document, as a cross-encoder scores each pair; `nil` without a
    /// tokenizer, when only the upstream's count is known.
    private func count(_ call: RerankCall) async throws -> Int? {
        guard let counter else { return nil }
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
