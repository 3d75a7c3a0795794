import Foundation
import Hummingbird
import NIOCore
import SluiceCore

/// Per-request state: Hummingbird's core context plus the authenticated user.
public struct SluiceRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `AuthMiddleware` on every `/api` route.
    public var user: User?
    /// The labelled key the request authenticated with; `nil` for the user's own token. Set with `user`.
    public var apiKey: KeyUse?
    /// Runs a streamed answer's tasks on the event loop of this request's connection.
    let executor: EventLoopExecutor
    /// When Hummingbird made this context: the request's head has been read. `TurnTimings` counts from here.
    let receivedAt: ContinuousClock.Instant
    /// The connection's other end (a proxy's, when one is in front: `ClientAddresses` reads past it).
    let peer: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        user = nil
        apiKey = nil
        executor = .of(source.channel.eventLoop)
        receivedAt = .now
        peer = source.channel.remoteAddress
    }

    /// Request bodies are chat messages and small JSON objects; anything larger is refused with 413.
    public var maxUploadSize: Int { 64 * 1024 }

    public var requestDecoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }

    public var responseEncoder: JSONEncoder { WireJSON.encoder }

    /// The signed-in user; routes behind `AuthMiddleware` can rely on it.
    func requireUser() throws -> User {
        guard let user else { throw APIError.unauthorized }
        return user
    }

    /// The signed-in administrator (`User.isAdmin`) with their own token; anyone else, or an API key, gets 403 (a key
    /// given to an application must not act for the whole server). `what`: what only an administrator may do.
    func requireAdministrator(to what: String) throws -> User {
        let user = try requireUser()
        guard user.isAdmin else {
            throw APIError(.forbidden, code: "admin_only", message: "Only an administrator may \(what). Ask one to make you an administrator.")
        }
        guard apiKey == nil else {
            throw APIError(
                .forbidden, code: "admin_only",
                message: "An API key cannot \(what). Sign in with your own token (the web app's) to do that.")
        }
        return user
    }
}

/// The JSON conventions of the HTTP API: snake_case keys, ISO 8601 dates with milliseconds.
enum WireJSON {
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(ISO8601Milliseconds.string(date))
        }
        return encoder
    }
}
