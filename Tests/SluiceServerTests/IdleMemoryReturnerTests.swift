import Foundation
import Synchronization
import SluiceCore
import SluiceStore
import SluiceTestSupport
import Testing
@testable import SluiceServer

/// After a burst of generations, once none runs, Sluice gives its free heap back to the system — once per burst, never
/// while an answer streams, not after a few quiet turns.
@Suite("Returning memory after a burst", .timeLimit(.minutes(1)))
struct IdleMemoryReturnerTests {
    /// Opened once: every generation waiting on it then ends.
    actor Gate {
        private var isOpen = false
        private var waiters: [CheckedContinuation<Void, Never>] = []

        func wait() async {
            if isOpen { return }
            await withCheckedContinuation { waiters.append($0) }
        }

        func open() {
            isOpen = true
            for waiter in waiters { waiter.resume() }
            waiters = []
        }
    }

    /// One piece of text, then the end once the gate opens.
    struct Gated: ChatProvider {
        let gate: Gate

        func streamChat(_ request: ChatRequest) -> ProviderStream {
            ProviderStream {
                var sent = false
                return ProviderStream.Iterator { [gate] in
                    if sent {
                        await gate.wait()
                        return nil
                    }
                    sent = true
                    return .delta("Hi")
                }
            }
        }

        func checkReady() async throws {}
    }

    @Test("memory is returned once after a burst ends, not while it runs, and not after fewer turns than a burst")
    func afterABurst() async throws {
        let fixture = try await HubFixture.make()
        let logger = fixture.logger
        let hub = GenerationHub(logger: logger)
        let releases = Atomic<Int>(0)
        let returner = IdleMemoryReturner(hub: hub, burst: 3, release: {
            releases.add(1, ordering: .relaxed)
            return true
        }, logger: logger)

        /// Starts `count` generations that stream until `gate` opens; returns their event feeds.
        func start(_ count: Int, gate: Gate) async throws -> [EventFeed] {
            let turn = fixture.turn(Gated(gate: gate))
            var feeds: [EventFeed] = []
            for _ in 0..<count { feeds.append(try await fixture.start(turn, in: hub)) }
            return feeds
        }

        /// Opens the gate and waits until every generation has ended and left the hub.
        func finish(_ feeds: [EventFeed], gate: Gate) async {
            await gate.open()
            for feed in feeds { for await _ in feed {} }
            while hub.runningCount > 0 { await Task.yield() }
        }

        // A burst of three: nothing returned while it streams.
        let burstGate = Gate()
        let burst = try await start(3, gate: burstGate)
        #expect(hub.runningCount == 3)
        #expect(!returner.look())
        #expect(releases.load(ordering: .relaxed) == 0)
        // Over: returned once, and not again while nothing new ran.
        await finish(burst, gate: burstGate)
        #expect(returner.look())
        #expect(releases.load(ordering: .relaxed) == 1)
        #expect(!returner.look())

        // Two turns, one after the other: no burst, nothing returned.
        for _ in 0..<2 {
            let gate = Gate()
            await finish(try await start(1, gate: gate), gate: gate)
        }
        #expect(!returner.look())
        #expect(releases.load(ordering: .relaxed) == 1)
        try await fixture.store.close()
    }

    @Test("on glibc the trim runs and says whether it released memory")
    func trimsTheHeap() {
        // Freed blocks above the heap's top are what a trim can give back: make some, free them, trim.
        let blocks = (0..<256).map { _ in malloc(64 * 1024) }
        for block in blocks { free(block) }
        #if canImport(Glibc)
        #expect(IdleMemoryReturner.trimHeap())
        #else
        #expect(!IdleMemoryReturner.trimHeap())
        #endif
    }
}
