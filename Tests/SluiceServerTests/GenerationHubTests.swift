import Foundation
import NIOPosix
import ServiceLifecycle
import SluiceCore
import SluiceProviders
import SluiceStore
import SluiceTestSupport
import Testing
@testable import SluiceServer

/// Generations outlive their requests but not the server: shutdown stops them and waits until each has stored
/// what it wrote.
@Suite("The generation hub")
struct GenerationHubTests {
    /// Sends one piece of text, then nothing until the call is cancelled.
    struct OneTokenThenSilence: ChatProvider {
        func streamChat(_ request: ChatRequest) -> ProviderStream {
            ProviderStream {
                var sent = false
                return ProviderStream.Iterator {
                    if !sent {
                        sent = true
                        return .delta("Hello")
                    }
                    try await Task.sleep(for: .seconds(3600))
                    return nil
                }
            }
        }

        func checkReady() async throws {}
    }

    @Test("shutdown cancels a running generation and returns once it has stored its text as partial", .timeLimit(.minutes(1)))
    func shutdownStoresPartial() async throws {
        let fixture = try await HubFixture.make()
        let (store, logger) = (fixture.store, fixture.logger)
        let turn = fixture.turn(OneTokenThenSilence())
        let hub = GenerationHub(logger: logger)
        let services = ServiceGroup(services: [hub], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            let events = try await fixture.start(turn, answer: "a1", in: hub)
            var iterator = events.makeAsyncIterator()
            var first: TurnEvent?
            while first == nil, let event = await iterator.next() {
                if case .token = event { first = event }
            }
            #expect(first != nil)
            #expect(hub.runningCount == 1)
            await services.triggerGracefulShutdown()
            // The group ends when the hub's `run()` does: after the generation ended and stored its answer.
            try await group.next()
        }
        let stored = try #require(try await store.message(id: "a1"))
        #expect(stored.status == .partial)
        #expect(stored.content == "Hello")
        #expect(stored.errorCode == "interrupted")
        #expect(hub.runningCount == 0)

        // Once shutdown has begun a new generation is not run in place: it is cancelled before its first step, and
        // ends without text (a generation started in place would have read the provider's token).
        let late = try await fixture.start(turn, answer: "a2", in: hub)
        var tokens = 0
        for await event in late { if case .token = event { tokens += 1 } }
        #expect(tokens == 0)
        let late2 = try #require(try await store.message(id: "a2"))
        #expect(late2.content == "" && late2.status != .complete)
        try await store.close()
    }

    /// Answers with the event loop an upstream call made now would prefer, by its index in NIO's shared group.
    struct SaysItsLoop: ChatProvider {
        func streamChat(_ request: ChatRequest) -> ProviderStream {
            let preferred = UpstreamHTTPClient.preferredEventLoop
            let index = Array(MultiThreadedEventLoopGroup.singleton.makeIterator()).firstIndex { $0 === preferred }
            let text = index.map { "loop \($0)" } ?? "no loop"
            return ProviderStream {
                var sent = false
                return ProviderStream.Iterator {
                    defer { sent = true }
                    return sent ? nil : .delta(text)
                }
            }
        }

        func checkReady() async throws {}
    }

    @Test("a generation's upstream call prefers the event loop of the client it streams to", .timeLimit(.minutes(1)))
    func upstreamOnTheClientsLoop() async throws {
        let fixture = try await HubFixture.make()
        let turn = fixture.turn(SaysItsLoop())
        let hub = GenerationHub(logger: fixture.logger)
        let loops = Array(MultiThreadedEventLoopGroup.singleton.makeIterator())
        // Each loop's executor in turn, and none: the answer names the loop the call preferred.
        for (index, executor) in loops.indices.map({ ($0, Optional(EventLoopExecutor.of(loops[$0]))) }) + [(-1, nil)] {
            let events = try await fixture.start(turn, in: hub, on: executor)
            var text = ""
            for await event in events { if case .token(_, _, let piece) = event { text += piece } }
            #expect(text == (index < 0 ? "no loop" : "loop \(index)"))
        }
        try await fixture.store.close()
    }

    /// Sends "Hello", then " world" once `gate` opens, then nothing until the call is cancelled.
    struct GatedAnswer: ChatProvider {
        let gate: AsyncStream<Void>

        func streamChat(_ request: ChatRequest) -> ProviderStream {
            ProviderStream {
                var sent = 0
                return ProviderStream.Iterator {
                    sent += 1
                    switch sent {
                    case 1: return .delta("Hello")
                    case 2:
                        for await _ in gate { break }
                        return .delta(" world")
                    default:
                        try await Task.sleep(for: .seconds(3600))
                        return nil
                    }
                }
            }
        }

        func checkReady() async throws {}
    }

    /// The text of `feed`'s tokens up to its end, and the end (`nil` when the feed ended without one).
    static func read(_ iterator: inout EventFeed.Iterator, tokens count: Int) async -> String {
        var text = ""
        var seen = 0
        while seen < count, let event = await iterator.next() {
            if case .token(_, _, let piece) = event {
                text += piece
                seen += 1
            }
        }
        return text
    }

    @Test("asked to stop, the hub lets a running answer go on; a second signal stops it with its text kept", .timeLimit(.minutes(1)))
    func drainThenHurry() async throws {
        let fixture = try await HubFixture.make()
        let (gate, opening) = AsyncStream<Void>.makeStream()
        let drain = ShutdownDrain(grace: .seconds(3600))
        let hub = GenerationHub(drain: drain, logger: fixture.logger)
        let services = ServiceGroup(services: [hub], gracefulShutdownSignals: [], cancellationSignals: [], logger: fixture.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            var iterator = try await fixture.start(fixture.turn(GatedAnswer(gate: gate)), answer: "a1", in: hub).makeAsyncIterator()
            #expect(await Self.read(&iterator, tokens: 1) == "Hello")

            #expect(drain.signalled() == .began)
            #expect(drain.hasBegun)
            // The answer still runs: its next token comes after the drain began.
            opening.yield()
            #expect(await Self.read(&iterator, tokens: 1) == " world")
            #expect(hub.runningCount == 1)

            #expect(drain.signalled() == .hurried)
            var end: TurnEvent?
            while let event = await iterator.next() { end = event }
            guard case .error(let failure)? = end else {
                Issue.record("the stream ended with \(String(describing: end))")
                return
            }
            #expect(failure.code == "interrupted" && failure.partial)
            await services.triggerGracefulShutdown()
            try await group.next()
        }
        #expect(hub.runningCount == 0)
        let stored = try #require(try await fixture.store.message(id: "a1"))
        #expect(stored.status == .partial)
        #expect(stored.content == "Hello world")
        try await fixture.store.close()
    }

    @Test("a drain's grace ends by itself: the answers still running are stopped, and one started later at once", .timeLimit(.minutes(1)))
    func graceRunsOut() async throws {
        let fixture = try await HubFixture.make()
        let drain = ShutdownDrain(grace: .milliseconds(300))
        let hub = GenerationHub(drain: drain, logger: fixture.logger)
        let services = ServiceGroup(services: [hub], gracefulShutdownSignals: [], cancellationSignals: [], logger: fixture.logger)
        let turn = fixture.turn(OneTokenThenSilence())
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            var iterator = try await fixture.start(turn, answer: "a1", in: hub).makeAsyncIterator()
            #expect(await Self.read(&iterator, tokens: 1) == "Hello")
            drain.begin()
            // Neither a second signal nor the hub's own shutdown: the grace alone ends this answer.
            var end: TurnEvent?
            while let event = await iterator.next() { end = event }
            guard case .error(let failure)? = end else {
                Issue.record("the stream ended with \(String(describing: end))")
                return
            }
            #expect(failure.code == "interrupted")
            let stored = try #require(try await fixture.store.message(id: "a1"))
            #expect(stored.status == .partial && stored.content == "Hello")

            let late = try await fixture.start(turn, answer: "a2", in: hub)
            var tokens = 0
            for await event in late { if case .token = event { tokens += 1 } }
            #expect(tokens == 0)
            await services.triggerGracefulShutdown()
            try await group.next()
        }
        try await fixture.store.close()
    }
}
