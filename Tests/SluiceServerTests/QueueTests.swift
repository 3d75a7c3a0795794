import Foundation
import SluiceCore
import SluiceProviders
import SluiceServer
import SluiceSimulator
import Synchronization
import Testing

/// Who got a slot, in order.
actor Order {
    private(set) var names: [String] = []
    func append(_ name: String) { names.append(name) }
}

@Suite("Upstream queue")
struct QueueTests {
    /// Positions a waiter hears, delivered as a stream so the test waits for them instead of sleeping.
    static func positions() -> (AsyncStream<Int>, @Sendable (Int) -> Void) {
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        return (stream, { continuation.yield($0) })
    }

    @Test func waitersGoInOrderHearTheirPlaceAndAFullQueueRefuses() async throws {
        let limiter = ConcurrencyLimiter(name: "up", maxConcurrent: 1, queueCapacity: 2)
        try await limiter.acquire { _ in Issue.record("a free slot does not queue") }
        let (bPositions, bHear) = Self.positions()
        let (cPositions, cHear) = Self.positions()
        let order = Order()
        let b = Task { try await limiter.acquire(onPosition: bHear); await order.append("b") }
        var bIterator = bPositions.makeAsyncIterator()
        #expect(await bIterator.next() == 1)
        let c = Task { try await limiter.acquire(onPosition: cHear); await order.append("c") }
        var cIterator = cPositions.makeAsyncIterator()
        #expect(await cIterator.next() == 2)
        #expect(limiter.isFull)
        await #expect(throws: ConcurrencyLimiter.Full.self) { try await limiter.acquire { _ in } }

        limiter.release()  // a's slot goes to b; c moves up
        try await b.value
        #expect(await cIterator.next() == 1)
        #expect(limiter.load == (running: 1, waiting: 1))
        limiter.release()
        try await c.value
        #expect(await order.names == ["b", "c"])
        limiter.release()
        #expect(limiter.load == (running: 0, waiting: 0))
    }

    @Test func aCancelledWaiterLeavesTheQueueAndThoseBehindMoveUp() async throws {
        let limiter = ConcurrencyLimiter(name: "up", maxConcurrent: 1, queueCapacity: 3)
        try await limiter.acquire { _ in }
        let (bPositions, bHear) = Self.positions()
        let (cPositions, cHear) = Self.positions()
        let b = Task { try await limiter.acquire(onPosition: bHear) }
        var bIterator = bPositions.makeAsyncIterator()
        #expect(await bIterator.next() == 1)
        let c = Task { try await limiter.acquire(onPosition: cHear) }
        var cIterator = cPositions.makeAsyncIterator()
        #expect(await cIterator.next() == 2)
        b.cancel()
        await #expect(throws: CancellationError.self) { try await b.value }
        #expect(await cIterator.next() == 1)
        limiter.release()
        try await c.value
        #expect(limiter.load == (running: 1, waiting: 0))
    }

    @Test("through Sluice: a second turn waits with status queued, a third is refused with 503 busy, then all finish")
    func queuedTurns() async throws {
        let limiter = ConcurrencyLimiter(name: "sim", maxConcurrent: 1, queueCapacity: 1)
        try await Harness.run(limiter: limiter) { h in
            let conversation = try await h.newConversation(h.alice)
            // The first answer holds the only slot until its gate is released token by token; the second starts
            // once the first has its first token, so it cannot take the slot first.
            try await h.releaseGate("q1")
            let firstToken = Signal()
            async let first = firstToken.send(
                h, conversation, body: #"{"content":"first"}"#, headers: ["X-Sluice-Gate": "q1", "X-Sluice-Tokens": "3"], on: "token")
            #expect(await firstToken.next())
            let queued = Signal()
            async let second = queued.send(h, try await h.newConversation(h.alice), body: #"{"content":"second"}"#, on: "status")
            #expect(await queued.next())
            let refused = try await h.request(.POST, "/api/conversations/\(conversation)/messages", token: h.alice, body: #"{"content":"third"}"#)
            #expect(refused.status == 503)
            #expect((refused.json?["error"] as? [String: Any])?["code"] as? String == "busy")
            #expect(refused.headers.first(name: "Retry-After") == "1")
            for _ in 0..<2 { try await h.releaseGate("q1") }
            let (one, two) = try await (first, second)
            #expect(one.names.last == "done" && two.names.last == "done")
            let status = try #require(two.events.first { $0.event == "status" }.flatMap(Harness.Turn.object))
            #expect(status["state"] as? String == "queued" && status["position"] as? Int == 1)
            #expect(two.text == SimulatedText.answer(tokens: 24))
        }
    }

    @Test("a turn that waits in the queue longer than the first-token timeout is not timed out: the clock starts when it goes upstream")
    func theFirstTokenClockStartsWhenTheWaitEnds() async throws {
        let limiter = ConcurrencyLimiter(name: "sim", maxConcurrent: 1, queueCapacity: 1)
        // Long enough that a loaded machine (the whole suite runs in parallel on two cores) gets the first token out
        // of the simulator in time once the turn goes upstream; CI once took over a second.
        let timeout = Duration.seconds(4)
        let breaker = CircuitBreaker(name: "sim", policy: CircuitBreakerPolicy(consecutiveFailures: 1, cooldown: .seconds(60)))
        var settings = TurnSettings(firstTokenTimeout: timeout, idleTimeout: .seconds(60), retryPolicy: RetryPolicy(jitter: 0))
        // The turn that holds the slot has all the time it needs for its own first token, however busy the machine.
        settings.perModel["sim-ok"] = .init(firstToken: .seconds(60))
        try await Harness.run(turn: settings, breaker: breaker, limiter: limiter) { h in
            // The first answer's first token goes at once; it then holds the only slot until the test lets its other
            // two tokens go. The second starts once the first has its slot.
            try await h.releaseGate("slow")
            let firstToken = Signal()
            async let first = firstToken.send(
                h, try await h.newConversation(h.alice), body: #"{"content":"first","model":"sim-ok"}"#,
                headers: ["X-Sluice-Gate": "slow", "X-Sluice-Tokens": "3"], on: "token")
            #expect(await firstToken.next())
            let queued = Signal()
            async let second = queued.send(h, try await h.newConversation(h.alice), body: #"{"content":"second"}"#, on: "status")
            #expect(await queued.next())
            // The scenario itself, not a wait for something: the second turn stays in line for one and a half timeouts.
            try await Task.sleep(for: timeout * 3 / 2)
            #expect(limiter.load == (running: 1, waiting: 1))
            for _ in 0..<2 { try await h.releaseGate("slow") }
            let (one, two) = try await (first, second)
            #expect(one.names.last == "done", "\(one.events)")
            #expect(two.names.last == "done", "\(two.events)")
            #expect(two.text == SimulatedText.answer(tokens: 24))
            // Only the queue's own status: no timeout, retry or fallback, and the upstream was never blamed.
            let states = two.events.filter { $0.event == "status" }.compactMap { Harness.Turn.field($0, "state") as? String }
            #expect(states == ["queued"])
            #expect(breaker.current == .closed)
        }
    }
}

/// Tells a test when a turn's stream carries an event of some name; it also ends when the turn does, so a turn
/// that fails before that event makes the test fail instead of wait for ever.
final class Signal: Sendable {
    private let events = AsyncStream<Void>.makeStream()

    /// Sends a turn with `Harness.send`, telling this signal of each event named `name`.
    func send(
        _ h: Harness, _ conversation: String, body: String, headers: [String: String] = [:], on name: String
    ) async throws -> Harness.Turn {
        let continuation = events.continuation
        defer { continuation.finish() }
        return try await h.send(conversation, token: h.alice, body: body, headers: headers) { event, _ in
            if event.event == name { continuation.yield() }
            return true
        }
    }

    /// Whether the event came (`false`: the turn ended without it).
    func next() async -> Bool {
        var iterator = events.stream.makeAsyncIterator()
        return await iterator.next() != nil
    }
}
