import Foundation
import HTTPTypes
import Hummingbird
import SluiceCore

/// What the pass-through APIs — embeddings, rerank, text completions — are served with, and the steps they share:
/// the gateway's model names and queues, the upstream, the budget hold before anything goes upstream, the ledger's
/// token counter and price list, retries and metrics. Each route keeps only what is its own (its parsing, counting,
/// cache and wording).
struct PassThroughServices: Sendable {
    let gateway: GatewayRoutes
    let provider: any ChatProvider
    let budget: TurnBudget
    /// Where a call's hold is settled when it ends: written again until the database takes it.
    let unsavedEnds: UnsavedAnswerEnds
    let counter: (any PromptCounter)?
    let catalog: ModelCatalog
    let settings: TurnSettings
    let sleeper: any Sleeper
    let metrics: SluiceMetrics
    /// `TurnLauncher.scenarioHeaders`: whether the simulator's controls are passed upstream.
    let forwardScenarioHeader: Bool
    /// A stopping Sluice's grace (`sluice serve`'s): streams still relayed when it is over are ended.
    var drain: ShutdownDrain? = nil

    /// A call's hold: `nil` without budgets; `grantedOutput` is what the hold left of the output asked for.
    struct Held: Sendable {
        let hold: BudgetHold?
        let grantedOutput: Int?
        /// The answer's headers so far: the rate limits with this call counted (OpenAI's `x-ratelimit-*`).
        var headers: HTTPFields
    }

    /// Holds the call's input and `outputTokens` before anything goes upstream, as a chat turn's input is held: a call
    /// that does not fit the budget or the rate limits never goes upstream (a 429 in `wording`'s words). Nothing of the
    /// call is stored but the ledger's row, which has no conversation.
    func hold(
        inputTokens: Int?, outputTokens: Int = 1, model: String, user: User, endUser: String?, apiKey: KeyUse?,
        tags: [String] = [], wording: RefusalWording
    ) async throws -> Held {
        let held = try await budget.hold(
            ChatRequest(model: model, messages: [], maxTokens: outputTokens), inputTokens: inputTokens ?? 0, user: user,
            conversationID: "", endUser: endUser, messageID: Identifier.make(), apiKey: apiKey, tags: tags, wording: wording)
        var headers: HTTPFields = [:]
        RateLimits.addHeaders(of: [held.hold?.rateLimits, held.hold?.keyRateLimits].compactMap { $0 }, to: &headers, now: Date())
        return Held(hold: held.hold, grantedOutput: held.request.maxTokens, headers: headers)
    }

    /// How an embeddings or rerank call's hold ends, at `model`'s input price.
    func settlement(
        of held: Held, api: SluiceMetrics.PassThroughAPI, model: String, started: ContinuousClock.Instant
    ) -> PassThroughSettlement {
        PassThroughSettlement(
            services: self, hold: held.hold, api: api, model: model,
            price: catalog.price(for: model), started: started)
    }

    /// A whole-answer call upstream with the gateway's retries (`GatewayRetries`); when it fails for good its hold is
    /// released, charged nothing, and the error is the caller's answer.
    func call<Answer>(
        settling settlement: PassThroughSettlement, refused: (_ status: Int, _ upstreamMessage: String) -> APIError,
        _ attempt: () async throws -> Answer
    ) async throws -> Answer {
        do {
            return try await retries.run(refused: refused, attempt)
        } catch {
            await settlement.failed()
            throw error
        }
    }

    /// Settles a call's `hold` (nothing without one) for what the call used, or releases it for nothing used; when the
    /// database does not take the settle, it is kept and written again (`UnsavedAnswerEnds`), and the call's answer
    /// goes to its client all the same.
    func settle(
        _ hold: BudgetHold?, inputTokens: Int, outputTokens: Int, cachedInputTokens: Int = 0, cost: USDAmount,
        saved: CacheSavings? = nil
    ) async {
        guard let hold else { return }
        await unsavedEnds.store(AnswerEnd(
            settlement: AnswerEnd.Settlement(
                holdID: hold.id, inputTokens: inputTokens, outputTokens: outputTokens, cachedInputTokens: cachedInputTokens,
                cost: cost, saved: saved, at: Date()),
            answer: nil))
    }

    /// The retry loop of a call before its answer: 429 and 5xx with back-off, `Retry-After` honoured.
    var retries: GatewayRetries { GatewayRetries(policy: settings.retryPolicy, sleeper: sleeper, metrics: metrics) }

    /// The simulator's controls of this request, when they are passed upstream (tests and chaos runs).
    func scenarioHeaders(_ request: Request) -> [String: String] {
        TurnLauncher.scenarioHeaders(request, forward: forwardScenarioHeader)
    }
}
