import SluiceCore
import SluiceProviders
import Synchronization
import Testing

/// A model's deployments: the least busy one that is up answers; one that fails before answering hands the call on.
struct BalancedProviderTests {
    /// An upstream that answers with its own name, or fails with `failure` before saying anything; counts its calls.
    final class NamedUpstream: ChatProvider {
        let name: String
        let failure: (any Error)?
        /// Fails after its first piece of text instead of before it.
        let failsMidAnswer: Bool
        let calls = Atomic<Int>(0)

        init(_ name: String, failure: (any Error)? = nil, failsMidAnswer: Bool = false) {
            self.name = name
            self.failure = failure
            self.failsMidAnswer = failsMidAnswer
        }

        func streamChat(_ request: ChatRequest) -> ProviderStream {
            calls.add(1, ordering: .relaxed)
            let (stream, continuation) = AsyncThrowingStream<ProviderEvent, any Error>.makeStream()
            if let failure, !failsMidAnswer {
                continuation.finish(throwing: failure)
            } else {
                continuation.yield(.delta(name))
                if let failure { continuation.finish(throwing: failure) } else { continuation.finish() }
            }
            return ProviderStream(stream)
        }

        func checkReady() async throws {}
    }

    static func deployment(_ upstream: NamedUpstream, concurrency: Int = 4, breaker: CircuitBreaker? = nil) -> BalancedProvider.Deployment {
        let limiter = ConcurrencyLimiter(name: upstream.name, maxConcurrent: concurrency, queueCapacity: 4)
        let guarded: any ChatProvider = breaker.map { CircuitBreakingProvider(upstream, breaker: $0) } ?? upstream
        return .init(name: upstream.name, provider: QueuedProvider(guarded, limiter: limiter), limiter: limiter, breaker: breaker)
    }

    /// The text of one whole call.
    static func answer(_ provider: BalancedProvider) async throws -> String {
        var text = ""
        for try await event in provider.streamChat(ProviderWrapperTests.request) {
            if case .delta(let piece) = event { text += piece }
        }
        return text
    }

    @Test func equallyIdleDeploymentsTakeTurnsAndABusyOneIsPassedOver() async throws {
        let (a, b) = (NamedUpstream("a"), NamedUpstream("b"))
        let balanced = BalancedProvider([Self.deployment(a), Self.deployment(b)])
        var answers: [String] = []
        for _ in 0..<4 { answers.append(try await Self.answer(balanced)) }
        #expect(answers.sorted() == ["a", "a", "b", "b"])
        #expect(Set(answers[0...1]) == ["a", "b"] && Set(answers[2...3]) == ["a", "b"])

        // Two of a's four slots taken by answers still running: every call goes to b.
        #expect(balanced.deployments[0].limiter.tryAcquire() && balanced.deployments[0].limiter.tryAcquire())
        for _ in 0..<3 { #expect(try await Self.answer(balanced) == "b") }
        balanced.deployments[0].limiter.release()
        balanced.deployments[0].limiter.release()
    }

    @Test func aDeploymentThatCannotBeReachedHandsTheCallOnAndItsOpenBreakerPutsItLast() async throws {
        let down = NamedUpstream("down", failure: ProviderError.connection("connection refused"))
        let up = NamedUpstream("up")
        let breaker = CircuitBreaker(name: "down", policy: CircuitBreakerPolicy(consecutiveFailures: 2, cooldown: .seconds(60)))
        let balanced = BalancedProvider([Self.deployment(down, breaker: breaker), Self.deployment(up)])
        for _ in 0..<6 { #expect(try await Self.answer(balanced) == "up") }
        // Two failures opened its breaker: it is tried no more (not even last: the first deployment answers).
        #expect(breaker.current == .open)
        #expect(down.calls.load(ordering: .relaxed) == 2)
        #expect(balanced.order().map(\.name) == ["up", "down"])

        // Both unreachable: the caller gets the last deployment's error, after each was tried once.
        let gone = BalancedProvider([
            Self.deployment(NamedUpstream("x", failure: ProviderError.http(status: 503, message: "overloaded", retryAfter: nil))),
            Self.deployment(NamedUpstream("y", failure: ProviderError.connection("refused"))),
        ])
        await #expect(throws: ProviderError.self) { _ = try await Self.answer(gone) }
    }

    @Test func aBadRequestOrAFailureMidAnswerIsNotTriedElsewhere() async throws {
        let refusing = NamedUpstream("a", failure: ProviderError.http(status: 400, message: "bad request", retryAfter: nil))
        let other = NamedUpstream("b")
        let balanced = BalancedProvider([Self.deployment(refusing), Self.deployment(other)])
        // Whichever is asked first: a 400 from a is the caller's, b is never asked for the same request after it.
        var errors = 0
        for _ in 0..<2 {
            do { _ = try await Self.answer(balanced) } catch { errors += 1 }
        }
        #expect(errors == 1 && refusing.calls.load(ordering: .relaxed) == 1 && other.calls.load(ordering: .relaxed) == 1)

        // Text already passed on: a broken stream is the caller's to handle (a partial answer), not a second answer.
        let breaking = NamedUpstream("c", failure: ProviderError.connection("reset"), failsMidAnswer: true)
        let spare = NamedUpstream("d")
        let midway = BalancedProvider([Self.deployment(breaking), Self.deployment(spare)])
        var failed = 0
        for _ in 0..<2 {
            do { _ = try await Self.answer(midway) } catch { failed += 1 }
        }
        #expect(failed == 1 && spare.calls.load(ordering: .relaxed) == 1)
    }
}
