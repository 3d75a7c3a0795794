import AsyncHTTPClient
import Dispatch
import NIOCore
import NIOPosix

/// The HTTP client Sluice uses for upstreams. Its owner shuts it down (`shutdown()`) after the server stops.
public enum UpstreamHTTPClient {
    /// The event loop of the connection an answer streams to, while a generation runs (set by the server around a
    /// turn): an upstream call made meanwhile prefers a connection on that loop, so each token is read from the
    /// upstream's socket and written to the client's by one thread, without a wake-up of the other loop per token.
    ///
    /// AsyncHTTPClient prefers the *current* loop, which a turn started in place on Swift's global pool does not have:
    /// without this, half of the streams on two loops crossed threads for every token.
    @TaskLocal public static var preferredEventLoop: (any EventLoop)?

    public static func make(maxConnectionsPerHost: Int = 2048, connectTimeout: TimeAmount = .seconds(10)) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        // Every chat stream holds a connection: allow many per upstream instead of AsyncHTTPClient's default 8.
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = maxConnectionsPerHost
        // A refused connection must fail at once so the turn can report it (retries are Sluice's decision,
        // not a silent loop inside the client).
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = connectTimeout
        return HTTPClient(eventLoopGroup: PreferringEventLoopGroup.singleton, configuration: configuration)
    }
}

/// NIO's shared event loops (the ones Hummingbird serves on), as AsyncHTTPClient sees them: `any()` — the loop a
/// request prefers for its connection — is `UpstreamHTTPClient.preferredEventLoop` when that is one of these loops.
final class PreferringEventLoopGroup: EventLoopGroup {
    static let singleton = PreferringEventLoopGroup(MultiThreadedEventLoopGroup.singleton)

    private let base: MultiThreadedEventLoopGroup
    private let loops: Set<ObjectIdentifier>

    private init(_ base: MultiThreadedEventLoopGroup) {
        self.base = base
        loops = Set(base.makeIterator().map { ObjectIdentifier($0) })
    }

    func next() -> any EventLoop { base.next() }

    func any() -> any EventLoop {
        if let preferred = UpstreamHTTPClient.preferredEventLoop, loops.contains(ObjectIdentifier(preferred)) {
            return preferred
        }
        return base.any()
    }

    func makeIterator() -> EventLoopIterator { base.makeIterator() }

    /// The shared loops live as long as the process: like `MultiThreadedEventLoopGroup.singleton`, they refuse to stop.
    func shutdownGracefully(queue: DispatchQueue, _ callback: @escaping @Sendable ((any Error)?) -> Void) {
        base.shutdownGracefully(queue: queue, callback)
    }

    func _preconditionSafeToSyncShutdown(file: StaticString, line: UInt) {
        base._preconditionSafeToSyncShutdown(file: file, line: line)
    }
}
