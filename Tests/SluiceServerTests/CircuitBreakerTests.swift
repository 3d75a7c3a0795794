import Foundation
import SluiceCore
import SluiceProviders
import Synchronization
import Testing

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let instant = Mutex(ContinuousClock.now)
    var now: ContinuousClock.Instant { instant.withLock { $0 } }
    func advance(_ duration: Duration) { instant.withLock { $0 += duration } }
}

struct CircuitBreakerTests {
    @Test func opensAfterARunOfFailuresRejectsThenProbesAndCloses() {
        let clock = ManualClock()
        let changes = Mutex<[CircuitState]>([])
        let breaker = CircuitBreaker(
            name: "up", policy: CircuitBreakerPolicy(consecutiveFailures: 3, cooldown: .seconds(30)), now: { clock.now },
            onChange: { state in changes.withLock { $0.append(state) } })
        for _ in 0..<2 {
            #expect(breaker.admit() == .allowed)
            breaker.record(failure: true)
        }
        #expect(breaker.current == .closed)
        #expect(breaker.admit() == .allowed)
        breaker.record(failure: true)
        #expect(breaker.current == .open)
        #expect(breaker.admit() == .rejected(retryAfter: .seconds(30)))
        clock.advance(.seconds(29))
        #expect(breaker.admit() == .rejected(retryAfter: .seconds(1)))
        clock.advance(.seconds(1))
        // One probe only; others wait for its verdict.
        #expect(breaker.admit() == .probe)
        #expect(breaker.admit() == .rejected(retryAfter: .seconds(1)))
        breaker.record(failure: false)
        #expect(breaker.current == .closed)
        #expect(breaker.admit() == .allowed)
        #expect(changes.withLock { $0 } == [.open, .halfOpen, .closed])
    }

    @Test func aFailedProbeOpensAgainForAWholeCooldown() {
        let clock = ManualClock()
        let breaker = CircuitBreaker(name: "up", policy: CircuitBreakerPolicy(consecutiveFailures: 1, cooldown: .seconds(10)), now: { clock.now })
        _ = breaker.admit()
        breaker.record(failure: true)
        clock.advance(.seconds(10))
        #expect(breaker.admit() == .probe)
        breaker.record(failure: true)
        #expect(breaker.current == .open)
        #expect(breaker.admit() == .rejected(retryAfter: .seconds(10)))
    }

    @Test func aHighFailureRateOpensItEvenWithoutARun() {
        let breaker = CircuitBreaker(
            name: "up", policy: CircuitBreakerPolicy(consecutiveFailures: 100, failureRate: 0.5, window: 10, minimumCalls: 10))
        // Alternating failures never make a run of two, but half of ten calls failed.
        for index in 0..<9 {
            _ = breaker.admit()
            breaker.record(failure: index % 2 == 0)
            #expect(breaker.current == .closed, "after \(index + 1) calls")
        }
        _ = breaker.admit()
        breaker.record(failure: false)
        #expect(breaker.current == .open)
    }

    @Test func cancellationAndRequestMistakesSayNothingAboutHealth() {
        #expect(CircuitBreaker.countsAsFailure(CancellationError()) == nil)
        #expect(CircuitBreaker.countsAsFailure(ProviderError.http(status: 400, message: "", retryAfter: nil)) == false)
        #expect(CircuitBreaker.countsAsFailure(ProviderError.http(status: 429, message: "", retryAfter: nil)) == true)
        #expect(CircuitBreaker.countsAsFailure(ProviderError.http(status: 529, message: "", retryAfter: nil)) == true)
        #expect(CircuitBreaker.countsAsFailure(ProviderError.connection("refused")) == true)
        let breaker = CircuitBreaker(name: "up", policy: CircuitBreakerPolicy(consecutiveFailures: 1))
        _ = breaker.admit()
        breaker.record(failure: nil)
        #expect(breaker.current == .closed)
    }
}
