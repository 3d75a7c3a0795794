import Synchronization

/// The events of one upstream call, pulled by whoever iterates it: each `next()` runs in the consumer's own
/// task. A provider reads its HTTP body inside `next()`, and a wrapper (circuit breaker, queue) observes the
/// events of the stream it wraps inside its own `next()`, so no layer adds a task, a buffer or a thread hop per
/// token — a token goes from the socket to the turn in one wake-up.
///
/// Cancelling the consuming task cancels the upstream request; so does dropping the iterator before the end.
public struct ProviderStream: AsyncSequence, Sendable {
    public typealias Element = ProviderEvent

    /// Pulls one event at a time; `nil` when the stream has ended.
    public struct Iterator: AsyncIteratorProtocol {
        private var pull: () async throws -> ProviderEvent?

        public init(_ pull: @escaping () async throws -> ProviderEvent?) {
            self.pull = pull
        }

        public mutating func next() async throws -> ProviderEvent? {
            try await pull()
        }
    }

    private let open: @Sendable () -> Iterator

    /// A stream whose iteration starts when it is iterated: `open` is called by `makeIterator()`.
    public init(_ open: @escaping @Sendable () -> Iterator) {
        self.open = open
    }

    /// A stream pushed by its producer (test doubles, simple sources); costs one hop per event.
    public init(_ stream: AsyncThrowingStream<ProviderEvent, any Error>) {
        open = {
            var iterator = stream.makeAsyncIterator()
            return Iterator { try await iterator.next() }
        }
    }

    /// A stream that fails at once with `error`, before any upstream call.
    public static func failing(_ error: any Error) -> ProviderStream {
        ProviderStream { Iterator { throw error } }
    }

    public func makeAsyncIterator() -> Iterator { open() }
}

/// Set by a turn around one attempt at a model: whether the turn gave up on it because no text came within its
/// first-token timeout. The turn then cancels the call, and a wrapper that sees only the cancellation (the circuit
/// breaker) can still tell a silent upstream from a client that left.
public final class FirstTokenWatch: Sendable {
    private let expired = Mutex(false)

    public init() {}

    /// The attempt's first-token deadline passed; its call is about to be cancelled.
    public func markExpired() { expired.withLock { $0 = true } }

    public var hasExpired: Bool { expired.withLock { $0 } }

    /// The watch of the attempt this task belongs to, if any.
    @TaskLocal public static var current: FirstTokenWatch?
}
