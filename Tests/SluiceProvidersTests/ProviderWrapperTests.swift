import SluiceCore
import SluiceProviders
import Synchronization
import Testing

/// The breaker and the queue read the stream below them inside their own `next()`; what they hold (a queue slot, a
/// half-open probe) must come back when a consumer stops listening half-way, not only when a stream ends.
struct ProviderWrapperTests {
    /// Sends one piece of text, then nothing until its consumer goes away; counts the calls that reached it.
    final class OpenEndedUpstream: ChatProvider {
        let calls = Atomic<Int>(0)
        /// Kept so that the streams stay open (a stream whose continuation is gone ends).
        private let open = Mutex<[AsyncThrowingStream<ProviderEvent, any Error>.Continuation]>([])
        func streamChat(_ request: ChatRequest) -> ProviderStream {
            calls.add(1, ordering: .relaxed)
            let (stream, continuation) = AsyncThrowingStream<ProviderEvent, any Error>.makeStream()
            continuation.yield(.delta("first"))
            open.withLock { $0.append(continuation) }
            return ProviderStream(stream)
        }
        func checkReady() async throws {}
    }

    static let request = ChatRequest(model: "m", messages: [ChatMessage(role: .user, content: "hi")])

    /// Polls `condition` until it holds or 10 s pass.
    static func eventually(_ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition(), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        return condition()
    }

    @Test func aStreamLeftHalfWayAndAWaiterThatGivesUpBothGiveTheirPlaceBack() async throws {
        let limiter = ConcurrencyLimiter(name: "up", maxConcurrent: 1, queueCapacity: 1)
        let provider = QueuedProvider(OpenEndedUpstream(), limiter: limiter)

        // The first call takes the only slot and reads its first piece; the second waits in line.
        let firstRead = Mutex(false)
        let first = Task {
            for try await event in provider.streamChat(Self.request) {
                if case .delta = event { firstRead.withLock { $0 = true } }
            }
        }
        #expect(try await Self.eventually { firstRead.withLock { $0 } })
        #expect(limiter.load.running == 1)
        let heardPlace = Mutex<Int?>(nil)
        let second = Task {
            for try await event in provider.streamChat(Self.request) {
                if case .queued(let position) = event { heardPlace.withLock { $0 = position } }
            }
        }
        #expect(try await Self.eventually { heardPlace.withLock { $0 } == 1 })
        #expect(limiter.load.waiting == 1)

        // The waiter gives up: it leaves the line (and does not count as running). The reader gives up: its slot
        // is free again.
        second.cancel()
        #expect(try await Self.eventually { limiter.load.waiting == 0 })
        _ = await second.result
        #expect(limiter.load.running == 1)
        first.cancel()
        #expect(try await Self.eventually { limiter.load.running == 0 })

        // And a consumer that simply stops iterating (no cancellation) also gives its slot back.
        do {
            var events = provider.streamChat(Self.request).makeAsyncIterator()
            #expect(try await events.next() == .delta("first"))
            #expect(limiter.load.running == 1)
        }
        #expect(try await Self.eventually { limiter.load.running == 0 })
    }

    @Test func aCallThatWaitedHearsWhenItLeavesTheQueueAndOneThatDidNotWaitDoesNot() async throws {
        let limiter = ConcurrencyLimiter(name: "up", maxConcurrent: 1, queueCapacity: 1)
        let provider = QueuedProvider(OpenEndedUpstream(), limiter: limiter)
        let (heard, hearing) = AsyncStream<ProviderEvent>.makeStream()
        var events = heard.makeAsyncIterator()
        let second: Task<Void, any Error>
        do {
            // A free slot: the upstream's first piece is the first event.
            var first = provider.streamChat(Self.request).makeAsyncIterator()
            #expect(try await first.next() == .delta("first"))
            second = Task {
                defer { hearing.finish() }
                for try await event in provider.streamChat(Self.request) {
                    hearing.yield(event)
                    if case .delta = event { return }
                }
            }
            #expect(await events.next() == .queued(position: 1))
        }
        // The first call is gone and its slot with it: the waiter hears that its wait is over, then the upstream.
        #expect(await events.next() == .leftQueue)
        #expect(await events.next() == .delta("first"))
        try await second.value
    }

    @Test func aHalfOpenProbeThatNobodyFinishedLetsTheNextCallProbe() async throws {
        let clock = Mutex(ContinuousClock.now)
        let breaker = CircuitBreaker(
            name: "up", policy: CircuitBreakerPolicy(consecutiveFailures: 1, cooldown: .seconds(30)),
            now: { clock.withLock { $0 } })
        let upstream = OpenEndedUpstream()
        let provider = CircuitBreakingProvider(upstream, breaker: breaker)
        breaker.record(failure: true)
        #expect(breaker.current == .open)
        clock.withLock { $0 += .seconds(31) }

        // The probe reads one piece and is abandoned: no verdict, so the next call may probe again.
        do {
            var probe = provider.streamChat(Self.request).makeAsyncIterator()
            #expect(try await probe.next() == .delta("first"))
        }
        var next = provider.streamChat(Self.request).makeAsyncIterator()
        #expect(try await next.next() == .delta("first"))
        #expect(upstream.calls.load(ordering: .relaxed) == 2)
    }
}
