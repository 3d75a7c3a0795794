import NIOCore
import NIOPosix
import Testing

@testable import SluiceServer

/// A streamed answer's tasks prefer the event loop of the client's connection; these check that such a task does
/// run there, before and after it waits on work resumed from elsewhere.
@Suite(.timeLimit(.minutes(1)))
struct EventLoopExecutorTests {
    @Test("one executor per event loop, the same one every time")
    func onePerLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let first = group.next(), second = group.next()
        #expect(first !== second)
        #expect(EventLoopExecutor.of(first) === EventLoopExecutor.of(first))
        #expect(EventLoopExecutor.of(first) !== EventLoopExecutor.of(second))
        #expect(EventLoopExecutor.of(first).eventLoop === first)
        try await group.shutdownGracefully()
    }

    @Test("a task that prefers it runs on its loop, and comes back to it after waiting on another thread")
    func runsOnTheLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let loop = group.next(), other = group.next()
        let executor = EventLoopExecutor.of(loop)
        let places = await Task(executorPreference: executor) { () async -> [Bool] in
            var places = [loop.inEventLoop]
            // Resumed by the other loop's thread: the task goes on where it prefers to run, not there.
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                other.execute { done.resume() }
            }
            places.append(loop.inEventLoop)
            try? await Task.sleep(for: .milliseconds(1))
            places.append(loop.inEventLoop)
            return places
        }.value
        #expect(places == [true, true, true])
        try await group.shutdownGracefully()
        // Without the preference the same code runs on Swift's global pool, not on the loop.
        let elsewhere = await Task { loop.inEventLoop }.value
        #expect(!elsewhere)
    }

    @Test("a child task inherits the loop, so a response's helper tasks write where its socket is written")
    func childTasksInherit() async {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let inherited = await withTaskExecutorPreference(EventLoopExecutor.of(loop)) {
            await withTaskGroup(of: Bool.self) { group in
                group.addTask { loop.inEventLoop }
                return await group.next() ?? false
            }
        }
        #expect(inherited)
    }
}
