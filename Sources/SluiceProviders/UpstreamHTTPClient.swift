import AsyncHTTPClient
import NIOCore

/// The HTTP client Sluice uses for upstreams. Its owner shuts it down (`shutdown()`) after the server stops.
public enum UpstreamHTTPClient {
    public static func make(maxConnectionsPerHost: Int = 2048, connectTimeout: TimeAmount = .seconds(10)) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        // Every chat stream holds a connection: allow many per upstream instead of AsyncHTTPClient's default 8.
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = maxConnectionsPerHost
        // A refused connection must fail at once so the turn can report it (retries are Sluice's decision,
        // not a silent loop inside the client).
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = connectTimeout
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }
}
