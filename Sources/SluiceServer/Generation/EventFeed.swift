import SluiceCore
import Synchronization

/// One reader's queue of turn events: a `LiveGeneration` adds to it, one task reads it. It does what `AsyncStream` did here, without its generic storage: every token of every answer passes
/// through one, and `AsyncStream`'s unspecialised buffer and metadata lookups were a measurable share of a
/// token's CPU.
///
/// Events added after `finish()` are dropped; the reader gets those added before it, then `nil`. A reader whose
/// task is cancelled, or that calls `stopReading()`, gets `nil` at once and nothing more is buffered for it.
final class EventFeed: AsyncSequence, Sendable {
    typealias Element = TurnEvent
    typealias Failure = Never

    fileprivate struct State {
        var buffer: [TurnEvent] = []
        var head = 0
        /// No more events will be added.
        var finished = false
        /// The reader has gone: nothing is kept for it.
        var abandoned = false
        /// The reader, waiting for the next event (only while `buffer` is drained).
        var waiter: UnsafeContinuation<TurnEvent?, Never>?
        var onAbandon: (@Sendable () -> Void)?
    }
    private let state = Mutex(State())

    init() {}

    /// An event for the reader: handed to it if it waits, else buffered.
    func yield(_ event: TurnEvent) {
        let waiter = state.withLock { state -> UnsafeContinuation<TurnEvent?, Never>? in
            guard !state.finished, !state.abandoned else { return nil }
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.buffer.append(event)
            return nil
        }
        waiter?.resume(returning: event)
    }

    /// No more events: the reader gets what is buffered, then `nil`.
    func finish() {
        let waiter = state.withLock { state -> UnsafeContinuation<TurnEvent?, Never>? in
            state.finished = true
            state.onAbandon = nil
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// The reader will not read again (its client left): buffered events are dropped and `onAbandon` runs.
    func stopReading() {
        let (waiter, handler) = state.withLock { state -> (UnsafeContinuation<TurnEvent?, Never>?, (@Sendable () -> Void)?) in
            guard !state.abandoned else { return (nil, nil) }
            state.abandoned = true
            state.buffer = []
            state.head = 0
            defer {
                state.waiter = nil
                state.onAbandon = nil
            }
            return (state.waiter, state.onAbandon)  // `finish` has already dropped it
        }
        waiter?.resume(returning: nil)
        handler?()
    }

    /// Runs once if the reader goes away before the feed is finished (at once if it already has).
    func onAbandon(_ handler: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { state -> Bool in
            if state.finished { return false }
            if state.abandoned { return true }
            state.onAbandon = handler
            return false
        }
        if runNow { handler() }
    }

    /// The next event, waiting for it if need be; `nil` once finished and drained, or when the reader's task is
    /// cancelled.
    func next() async -> TurnEvent? {
        switch state.withLock({ $0.take() }) {
        case .event(let event): return event
        case .end: return nil
        case .wait: break
        }
        return await withTaskCancellationHandler { await waitForNext() } onCancel: { stopReading() }
    }

    /// Runs `body`, which reads with `nextWhileReading()`, under one cancellation handler for all its reads: a
    /// streamed answer waits for every token, and a handler per wait is a status record added to and removed from
    /// the reader's task per token. Cancelling the task stops the reading as `next()` does.
    func reading<T>(_ body: () async throws -> T) async rethrows -> T {
        try await withTaskCancellationHandler(operation: body) { stopReading() }
    }

    /// `next()` for a reader inside `reading(_:)`, whose handler covers the wait.
    func nextWhileReading() async -> TurnEvent? {
        switch state.withLock({ $0.take() }) {
        case .event(let event): return event
        case .end: return nil
        case .wait: return await waitForNext()
        }
    }

    private func waitForNext() async -> TurnEvent? {
        await withUnsafeContinuation { (reader: UnsafeContinuation<TurnEvent?, Never>) in
            let ready = state.withLock { state -> Take in
                let taken = state.take()
                if case .wait = taken { state.waiter = reader }
                return taken
            }
            switch ready {
            case .event(let event): reader.resume(returning: event)
            case .end: reader.resume(returning: nil)
            case .wait: break
            }
        }
    }

    struct Iterator: AsyncIteratorProtocol {
        let feed: EventFeed
        mutating func next() async -> TurnEvent? { await feed.next() }
        mutating func next(isolation actor: isolated (any Actor)?) async -> TurnEvent? { await feed.next() }
    }

    func makeAsyncIterator() -> Iterator { Iterator(feed: self) }
}

private enum Take {
    case event(TurnEvent)
    case end
    case wait
}

extension EventFeed.State {
    fileprivate mutating func take() -> Take {
        if abandoned { return .end }
        if head < buffer.count {
            let event = buffer[head]
            head += 1
            if head == buffer.count {
                buffer.removeAll(keepingCapacity: true)
                head = 0
            }
            return .event(event)
        }
        return finished ? .end : .wait
    }
}
