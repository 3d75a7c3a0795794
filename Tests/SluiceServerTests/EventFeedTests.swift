import SluiceCore
import Synchronization
import Testing

@testable import SluiceServer

/// The queue between a running generation and each client that follows it. A broken feed hangs its reader, so
/// the suite has a time limit.
@Suite(.timeLimit(.minutes(1)))
struct EventFeedTests {
    static func token(_ seq: Int) -> TurnEvent { .token(messageID: "m", seq: seq, text: "t\(seq)") }

    static func seqs(_ events: [TurnEvent]) -> [Int] {
        events.compactMap { if case .token(_, let seq, _) = $0 { return seq } else { return nil } }
    }

    @Test("events reach the reader in order, those written while it waits as well as those buffered; then the end")
    func inOrderThenEnd() async {
        let feed = EventFeed()
        for seq in 1...3 { feed.yield(Self.token(seq)) }
        let reader = Task {
            var seen: [TurnEvent] = []
            for await event in feed { seen.append(event) }
            return seen
        }
        for seq in 4...2_000 { feed.yield(Self.token(seq)) }
        feed.finish()
        feed.yield(Self.token(2_001))  // after the end: dropped
        #expect(Self.seqs(await reader.value) == Array(1...2_000))
        var again = feed.makeAsyncIterator()
        #expect(await again.next() == nil)
    }

    @Test("a reader whose task is cancelled gets nil, and the generation stops keeping events for it")
    func cancelledReaderIsDropped() async {
        let generation = LiveGeneration(messageID: "m")
        let feed = generation.follow(after: 0)
        #expect(generation.followerCount == 1)
        let started = AsyncStream<Void>.makeStream()
        let reader = Task {
            started.continuation.yield()
            return await feed.next()
        }
        for await _ in started.stream { break }
        reader.cancel()
        #expect(await reader.value == nil)
        #expect(generation.followerCount == 0)
        generation.publish(Self.token(1))  // nobody is left to hand it to
        var iterator = feed.makeAsyncIterator()
        #expect(await iterator.next() == nil)
    }

    @Test("a reader inside reading(_:) gets every event, and nil when its task is cancelled while it waits; the generation drops it")
    func cancelledReaderInsideReading() async {
        let generation = LiveGeneration(messageID: "m")
        let feed = generation.follow(after: 0)
        let waiting = AsyncStream<Int>.makeStream()
        let reader = Task {
            await feed.reading {
                var seen: [Int] = []
                while true {
                    waiting.continuation.yield(seen.count)
                    guard let event = await feed.nextWhileReading() else { return seen }
                    seen += Self.seqs([event])
                }
            }
        }
        var announced = waiting.stream.makeAsyncIterator()
        _ = await announced.next()
        for seq in 1...3 {
            generation.publish(Self.token(seq))
            while await announced.next() != seq {}
        }
        reader.cancel()
        #expect(await reader.value == [1, 2, 3])
        #expect(generation.followerCount == 0)
    }

    @Test("stopReading drops what is buffered and unsubscribes once; a finished feed has nothing to unsubscribe")
    func stopReading() async {
        let calls = Mutex(0)
        let feed = EventFeed()
        feed.onAbandon { calls.withLock { $0 += 1 } }
        feed.yield(Self.token(1))
        feed.stopReading()
        feed.stopReading()
        #expect(calls.withLock { $0 } == 1)
        #expect(await feed.next() == nil)

        let finished = EventFeed()
        finished.onAbandon { calls.withLock { $0 += 1 } }
        finished.yield(Self.token(1))
        finished.finish()
        #expect(Self.seqs([await finished.next()].compactMap { $0 }) == [1])
        finished.stopReading()
        #expect(calls.withLock { $0 } == 1)
    }

    @Test("a follower that joins late gets the tokens after its last seen one, then every later event, then the end")
    func lateFollower() async {
        let generation = LiveGeneration(messageID: "m")
        for seq in 1...5 { generation.publish(Self.token(seq)) }
        let late = generation.follow(after: 3)
        generation.publish(Self.token(6))
        generation.publish(.done(.init(usage: WireUsage(nil), ttftMs: nil, durationMs: 1, finishReason: "stop", model: "sim")))
        var seen: [TurnEvent] = []
        for await event in late { seen.append(event) }
        #expect(Self.seqs(seen) == [4, 5, 6])
        if case .done? = seen.last {} else { Issue.record("the last event is not done: \(String(describing: seen.last))") }
        #expect(generation.followerCount == 0)
    }

    @Test("a follower that joins while a function call streams gets the calls so far whole, then the pieces after")
    func lateFollowerGetsCalls() async {
        let generation = LiveGeneration(messageID: "m")
        generation.publish(Self.token(1))
        generation.publish(.toolCall(ToolCallDelta(index: 0, id: "call_1", name: "get_weather", arguments: #"{"ci"#)))
        generation.publish(.toolCall(ToolCallDelta(index: 0, arguments: #"ty":"Oslo"}"#)))
        generation.publish(.toolCall(ToolCallDelta(index: 1, id: "call_2", name: "get_time", arguments: "{")))
        let late = generation.follow(after: 0)
        generation.publish(.toolCall(ToolCallDelta(index: 1, arguments: "}")))
        generation.publish(.done(.init(usage: WireUsage(nil), ttftMs: nil, durationMs: 1, finishReason: "tool_calls", model: "sim")))
        var calls: [ToolCall] = []
        var seen: [TurnEvent] = []
        for await event in late {
            seen.append(event)
            if case .toolCall(let piece) = event { calls.apply(piece) }
        }
        #expect(Self.seqs(seen) == [1])
        #expect(calls == [
            ToolCall(id: "call_1", name: "get_weather", arguments: #"{"city":"Oslo"}"#),
            ToolCall(id: "call_2", name: "get_time", arguments: "{}"),
        ])
        // The first two calls come whole, in one piece each, before the later piece.
        #expect(seen.filter { if case .toolCall = $0 { true } else { false } }.count == 3)
    }
}
