import Foundation
import SluiceCore

/// Sends each request to the provider of its model (each with its own breaker and queue), and knows every
/// model's fallback chain. Models that are not configured go to `defaultProvider` when there is one.
public struct ModelRouter: ChatProvider {
    /// One configured model: where it is served and what to try when it fails.
    public struct Route: Sendable {
        public let provider: any ChatProvider
        /// Models to try next, in order, when this one fails before its first token.
        public let fallbacks: [String]
        /// The queue in front of it, if any (for `503 busy` before a turn starts).
        public let limiter: ConcurrencyLimiter?

        public init(provider: any ChatProvider, fallbacks: [String] = [], limiter: ConcurrencyLimiter? = nil) {
            self.provider = provider
            self.fallbacks = fallbacks
            self.limiter = limiter
        }
    }

    public let routes: [String: Route]
    public let defaultProvider: (any ChatProvider)?

    public init(routes: [String: Route], defaultProvider: (any ChatProvider)? = nil) {
        self.routes = routes
        self.defaultProvider = defaultProvider
    }

    /// The models to try after `model`, following each fallback's own chain, without repeats.
    public func fallbackChain(for model: String) -> [String] {
        var chain: [String] = []
        var pending = routes[model]?.fallbacks ?? []
        while !pending.isEmpty {
            let next = pending.removeFirst()
            guard next != model, !chain.contains(next) else { continue }
            chain.append(next)
            pending += routes[next]?.fallbacks ?? []
        }
        return chain
    }

    public func streamChat(_ request: ChatRequest) -> ProviderStream {
        guard let provider = routes[request.model]?.provider ?? defaultProvider else { return .failing(unknown(request.model)) }
        return provider.streamChat(request)
    }

    /// The text completion of the request's model, from its provider (with its breaker and queue).
    public func streamText(_ request: TextCompletionRequest) -> ProviderStream {
        guard let provider = routes[request.model]?.provider ?? defaultProvider else { return .failing(unknown(request.model)) }
        return provider.streamText(request)
    }

    private func unknown(_ model: String) -> ProviderError {
        let known = routes.keys.sorted().joined(separator: ", ")
        return ProviderError.http(status: 404, message: "Sluice has no model named \(model); configured: \(known)", retryAfter: nil)
    }

    /// A JSON call (embeddings, rerank) to the call's model's provider (with its breaker and queue).
    public func send(_ call: UpstreamJSONCall) async throws -> [UInt8] {
        guard let provider = routes[call.model]?.provider ?? defaultProvider else { throw unknown(call.model) }
        return try await provider.send(call)
    }

    /// Ready when any model's upstream is: a model whose upstream is down fails alone (its turns say so, or fall
    /// back), so an instance is not taken out of service for it.
    public func checkReady() async throws {
        try await readiness(named: "default").requireAnyReady()
    }

    /// Every configured model's upstreams (each deployment of a balanced one), and the default upstream as `name`
    /// (`(other models)` when a route has that name), checked at once.
    public func readiness(named name: String) async -> [UpstreamReadiness] {
        await withTaskGroup(of: [UpstreamReadiness].self) { group in
            for (model, route) in routes {
                group.addTask { await route.provider.readiness(named: model) }
            }
            if let defaultProvider {
                let label = routes[name] == nil ? name : "(other models)"
                group.addTask { await defaultProvider.readiness(named: label) }
            }
            return await group.reduce(into: []) { $0 += $1 }.sorted { $0.name < $1.name }
        }
    }
}
