import SluiceCore

/// How an embeddings or rerank call's hold ends, with its metrics: released when the call failed, settled at its input
/// tokens (at the model's input price) when it answered, or at zero with what it saved when the cache answered it.
struct PassThroughSettlement: Sendable {
    let services: PassThroughServices
    let hold: BudgetHold?
    let api: SluiceMetrics.PassThroughAPI
    let model: String
    let price: ModelPrice
    let started: ContinuousClock.Instant

    func failed() async {
        await settle(tokens: 0, cost: .zero, saved: nil)
        services.metrics.passThroughFinished(api: api, model: model, ok: false, duration: .now - started, inputTokens: nil)
    }

    func answered(inputTokens tokens: Int) async {
        let cost = price.cost(inputTokens: tokens, outputTokens: 0)
        await settle(tokens: tokens, cost: cost, saved: nil)
        services.metrics.passThroughFinished(api: api, model: model, ok: true, duration: .now - started, inputTokens: tokens)
        if cost > .zero { services.metrics.charged(model: model, cost: cost) }
    }

    /// Answered from the response cache: what the first call used is what this one saved.
    func cacheAnswered(savedTokens tokens: Int) async {
        await settle(tokens: 0, cost: .zero, saved: CacheSavings(tokens: tokens, cost: price.cost(inputTokens: tokens, outputTokens: 0)))
        services.metrics.passThroughFinished(api: api, model: model, ok: true, duration: .now - started, inputTokens: nil)
    }

    private func settle(tokens: Int, cost: USDAmount, saved: CacheSavings?) async {
        await services.settle(hold, inputTokens: tokens, outputTokens: 0, cost: cost, saved: saved)
    }
}
