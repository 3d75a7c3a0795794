import NIOCore
import NIOPosix
import Testing

@testable import SluiceProviders

/// The upstream client's connections prefer the event loop named by `UpstreamHTTPClient.preferredEventLoop` — the
/// loop of the client an answer streams to — and only loops they can use.
@Suite("The upstream client's event loops")
struct UpstreamHTTPClientTests {
    @Test("a request made while a shared loop is preferred asks for that loop; without one, for any shared loop")
    func prefersTheNamedLoop() async throws {
        let client = UpstreamHTTPClient.make()
        let loops = Array(MultiThreadedEventLoopGroup.singleton.makeIterator())
        for loop in loops {
            // Asked many times: NIO's own choice off its loops is round robin, so a match by chance would not last.
            let chosen = UpstreamHTTPClient.$preferredEventLoop.withValue(loop) { (0..<8).map { _ in client.eventLoopGroup.any() } }
            #expect(chosen.allSatisfy { $0 === loop })
        }
        let unpreferred = (0..<8).map { _ in client.eventLoopGroup.any() }
        #expect(unpreferred.allSatisfy { chosen in loops.contains { $0 === chosen } })
        try await client.shutdown()
    }

    @Test("a loop of another group is not the client's to use: it is passed over")
    func foreignLoop() async throws {
        let client = UpstreamHTTPClient.make()
        let other = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let foreign = other.next()
        let chosen = UpstreamHTTPClient.$preferredEventLoop.withValue(foreign) { client.eventLoopGroup.any() }
        #expect(chosen !== foreign)
        #expect(MultiThreadedEventLoopGroup.singleton.makeIterator().contains { $0 === chosen })
        try await client.shutdown()
        try await other.shutdownGracefully()
    }
}
