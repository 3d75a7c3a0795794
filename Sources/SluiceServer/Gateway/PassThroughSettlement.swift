import SluiceCore

/// How an embeddings or rerank call's hold ends, with its metrics: released when the call failed, settled at its input
/// tokens (at the model's input price) when it answered, or at zero with what it saved when the cache answered it.
/// An answered call's settle returns what it cost, `nil` for a model without a price (`X-Sluice-Response-Cost`).
struct PassThroughSettlement: Sendable {
    let services: PassThroughServices
    let hold: BudgetHold?
    let api: SluiceMetrics.PassThroughAPI
    let model: String
    /// `nil`: the model has no price, and its calls are charged nothing.
    let price: ModelPrice?
    let started: ContinuousClock.Instant

    func failed() async {
        await settle(tokens: 0, cost: .zero, saved: nil)
        services.metrics.passThroughFinished(api: api, model: model, ok: false, duration: .now - started, inputTokens: nil)
    }

    @discardableResult
    func answered(inputTokens tokens: Int) async -> USDAmount? {
        let cost = price?.cost(inputTokens: tokens, outputTokens: 0)
        await settle(tokens: tokens, cost: cost ?? .zero, saved: nil)
        services.metrics.passThroughFinished(api: api, model: model, ok: true, duration: .now - started, inputTokens: tokens)
        if let cost, cost > .zero { services.metrics.charged(model: model, cost: cost) }
        return cost
    }

    /// Answered from the response cache: what the first call used is what this one saved; it cost nothing.
    @discardableResult
    func cacheAnswered(savedTokens tokens: Int) async -> USDAmount? {
        let wouldCost = price?.cost(inputTokens: tokens, outputTokens: 0)
        await settle(tokens: 0, cost: .zero, saved: CacheSavings(tokens: tokens, cost: wouldCost ?? .zero))
        services.metrics.passThroughFinished(api: api, model: model, ok: true, duration: .now - started, inputTokens: nil)
        return price == nil ? nil : .zero
    }

    private func settle(tokens: Int, cost: USDAmount, saved: CacheSavings?) async {
        await services.settle(hold, inputTokens: tokens, outputTokens: 0, cost: cost, saved: saved)
    }
}
