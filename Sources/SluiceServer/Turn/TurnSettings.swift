import Foundation

/// Timing rules of one generation.
public struct TurnSettings: Sendable {
    /// No text from the upstream within this time of the start ends the turn with `upstream_timeout`.
    public var firstTokenTimeout: Duration
    /// No upstream event for this long once text has started ends the turn with `upstream_timeout`, partial kept.
    public var idleTimeout: Duration
    /// The longest one answer may take from its start, retries included; then it is cut, partial kept.
    public var totalTimeout: Duration
    /// The growing answer is written to the store at most this often.
    public var flushInterval: Duration
    /// A `: ping` comment is sent after this much silence on the client stream.
    public var pingInterval: Duration
    /// The most tokens an answer may have (`max_tokens` upstream); `nil` leaves it to the model.
    public var maxOutputTokens: Int?
    /// Retries before the first token.
    public var retryPolicy: RetryPolicy
    /// Stop generating when the client that started the turn disconnects. Off by default: the answer is
    /// finished and stored, and the client can resume it (`GET /api/messages/{id}/events`).
    public var stopOnDisconnect: Bool
    /// Models with timeouts of their own (`serve --models`); the others use the ones above.
    public var perModel: [String: ModelTimeouts] = [:]
    /// How long after the database did not take an answer's end it is first written again (`UnsavedAnswerEnds`;
    /// the wait then doubles).
    public var unsavedEndFirstWait: Duration = .milliseconds(500)

    /// A model's own first-token and idle timeouts (`nil` keeps the default).
    public struct ModelTimeouts: Sendable, Equatable {
        public var firstToken: Duration?
        public var idle: Duration?
        public var total: Duration?

        public init(firstToken: Duration? = nil, idle: Duration? = nil, total: Duration? = nil) {
            self.firstToken = firstToken
            self.idle = idle
            self.total = total
        }
    }

    public func firstTokenTimeout(for model: String) -> Duration { perModel[model]?.firstToken ?? firstTokenTimeout }
    public func idleTimeout(for model: String) -> Duration { perModel[model]?.idle ?? idleTimeout }
    public func totalTimeout(for model: String) -> Duration { perModel[model]?.total ?? totalTimeout }

    public init(
        firstTokenTimeout: Duration = .seconds(30), idleTimeout: Duration = .seconds(30), totalTimeout: Duration = .seconds(600),
        flushInterval: Duration = .milliseconds(250), pingInterval: Duration = .seconds(15), maxOutputTokens: Int? = nil,
        retryPolicy: RetryPolicy = RetryPolicy(), stopOnDisconnect: Bool = false
    ) {
        self.stopOnDisconnect = stopOnDisconnect
        self.retryPolicy = retryPolicy
        self.maxOutputTokens = maxOutputTokens
        self.firstTokenTimeout = firstTokenTimeout
        self.idleTimeout = idleTimeout
        self.totalTimeout = totalTimeout
        self.flushInterval = flushInterval
        self.pingInterval = pingInterval
    }
}
