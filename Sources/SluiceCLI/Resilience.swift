import Foundation
import Logging
import SluiceCore
import SluiceProviders
import SluiceServer

/// Puts a provider behind a circuit breaker (reported as `sluice_circuit_state`, and shared with the other instances
/// on the database through `sharing`) and a bounded queue (`sluice_queue_waiting`).
struct Resilience {
    let breakerFailures: Int
    let breakerCooldown: Duration
    let metrics: SluiceMetrics
    let logger: Logger
    var sharing: CircuitSharing? = nil

    func wrap(_ base: any ChatProvider, name: String, concurrency: Int, queue: Int) -> (any ChatProvider, ConcurrencyLimiter) {
        let wrapped = deployment(base, name: name, concurrency: concurrency, queue: queue)
        return (wrapped.provider, wrapped.limiter)
    }

    /// `base` behind its own breaker and queue, named `name` in the metrics and logs: one upstream, or one of a
    /// model's deployments (`BalancedProvider`).
    func deployment(_ base: any ChatProvider, name: String, concurrency: Int, queue: Int) -> BalancedProvider.Deployment {
        let metrics = self.metrics
        let logger = self.logger
        let sharing = self.sharing
        var onTrip: @Sendable (Duration) -> Void = { _ in }
        if let sharing { onTrip = sharing.onTrip(of: name) }
        let breaker = breakerFailures == 0
            ? nil
            : CircuitBreaker(
                name: name, policy: CircuitBreakerPolicy(consecutiveFailures: breakerFailures, cooldown: breakerCooldown),
                onChange: { state in
                    metrics.setCircuitState(upstream: name, state: state.rawValue)
                    logger.log(level: state == .open ? .error : .notice, "an upstream's circuit breaker changed", metadata: [
                        "upstream": "\(name)", "state": "\(state)",
                    ])
                },
                onTrip: onTrip)
        if let breaker { sharing?.watch(breaker) }
        let guarded: any ChatProvider = breaker.map { CircuitBreakingProvider(base, breaker: $0) } ?? base
        let limiter = ConcurrencyLimiter(
            name: name, maxConcurrent: concurrency, queueCapacity: queue,
            onDepth: { metrics.setQueueWaiting(upstream: name, count: $0) })
        return BalancedProvider.Deployment(
            name: name, provider: QueuedProvider(guarded, limiter: limiter), limiter: limiter, breaker: breaker)
    }
}
