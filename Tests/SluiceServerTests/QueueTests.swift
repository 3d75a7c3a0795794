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
            // The first answer holds the only slot until its gate is released token by token.
            async let first = h.send(
                conversation, token: h.alice, body: #"{"content":"first"}"#, headers: ["X-Sluice-Gate": "q1", "X-Sluice-Tokens": "3"])
            let queuedSeen = AsyncStream<Void>.makeStream()
            async let second = h.send(try await h.newConversation(h.alice), token: h.alice, body: #"{"content":"second"}"#) { event, _ in
                if event.event == "status" { queuedSeen.continuation.yield() }
                return true
            }
            var seen = queuedSeen.stream.makeAsyncIterator()
            await seen.next()
            let refused = try await h.request(.POST, "/api/conversations/\(conversation)/messages", token: h.alice, body: #"{"content":"third"}"#)
            #expect(refused.status == 503)
            #expect((refused.json?["error"] as? [String: Any])?["code"] as? String == "busy")
            #expect(refused.headers.first(name: "Retry-After") == "1")
            for _ in 0..<3 { try await h.releaseGate("q1") }
            let (one, two) = try await (first, second)
            #expect(one.names.last == "done" && two.names.last == "done")
            let status = try #require(two.events.first { $0.event == "status" }.flatMap(Harness.Turn.object))
            #expect(status["state"] as? String == "queued" && status["position"] as? Int == 1)
            #expect(two.text == SimulatedText.answer(tokens: 24))
        }
    }
}
