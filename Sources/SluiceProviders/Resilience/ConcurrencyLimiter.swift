import Foundation
import SluiceCore
import Synchronization

/// At most `maxConcurrent` calls to one upstream at a time; up to `queueCapacity` more wait in order (FIFO),
/// and are told their place whenever it changes. A full queue refuses at once.
public final class ConcurrencyLimiter: Sendable {
    public let name: String
    public let maxConcurrent: Int
    public let queueCapacity: Int

    /// The queue is full: the call was not made.
    public struct Full: Error, Equatable {}

    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Void, any Error>
        let onPosition: @Sendable (Int) -> Void
    }
    private struct State {
        var running = 0
        var waiters: [Waiter] = []
        var nextID: UInt64 = 0
    }
    private let state = Mutex(State())
    private let onDepth: @Sendable (Int) -> Void

    /// - Parameter onDepth: told the number of waiting calls whenever it changes (for a gauge).
    public init(name: String, maxConcurrent: Int, queueCapacity: Int, onDepth: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.name = name
        self.maxConcurrent = max(1, maxConcurrent)
        self.queueCapacity = max(0, queueCapacity)
        self.onDepth = onDepth
    }

    /// Calls running and waiting now.
    public var load: (running: Int, waiting: Int) { state.withLock { ($0.running, $0.waiters.count) } }

    /// Whether a new call would be refused now (a route checks before it starts a turn).
    public var isFull: Bool { state.withLock { $0.running >= maxConcurrent && $0.waiters.count >= queueCapacity } }

    /// Takes a slot if one is free now and nobody waits for one; `false` leaves everything as it was.
    public func tryAcquire() -> Bool {
        state.withLock { state in
            guard state.running < maxConcurrent, state.waiters.isEmpty else { return false }
            state.running += 1
            return true
        }
    }

    /// Waits for a slot. `onPosition` hears 1-based places in the queue (not called when a slot is free at once).
    public func acquire(onPosition: @escaping @Sendable (Int) -> Void) async throws {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Outcome { case go, full, queued(Int), cancelled }
                let outcome = state.withLock { state -> Outcome in
                    if Task.isCancelled { return .cancelled }
                    if state.running < maxConcurrent {
                        state.running += 1
                        return .go
                    }
                    guard state.waiters.count < queueCapacity else { return .full }
                    state.waiters.append(Waiter(id: id, continuation: continuation, onPosition: onPosition))
                    return .queued(state.waiters.count)
                }
                switch outcome {
                case .go: continuation.resume()
                case .full: continuation.resume(throwing: Full())
                case .cancelled: continuation.resume(throwing: CancellationError())
                case .queued(let position):
                    onPosition(position)
                    onDepth(position)
                }
            }
        } onCancel: {
            let removed = state.withLock { state -> (Waiter, [Waiter])? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                let waiter = state.waiters.remove(at: index)
                return (waiter, Array(state.waiters[index...]))
            }
            if let (waiter, behind) = removed {
                waiter.continuation.resume(throwing: CancellationError())
                announce(behind)
            }
        }
    }

    /// Frees a slot: the first waiter (if any) takes it, and everyone behind moves up one place.
    public func release() {
        let (next, behind) = state.withLock { state -> (Waiter?, [Waiter]) in
            guard !state.waiters.isEmpty else {
                state.running -= 1
                return (nil, [])
            }
            let next = state.waiters.removeFirst()
            return (next, state.waiters)
        }
        next?.continuation.resume()
        if next != nil { announce(behind) }
    }

    /// Tells `waiters` their (new) places, and the gauge the depth.
    private func announce(_ waiters: [Waiter]) {
        let positions: [(Waiter, Int)] = state.withLock { state in
            waiters.compactMap { waiter in state.waiters.firstIndex { $0.id == waiter.id }.map { (waiter, $0 + 1) } }
        }
        for (waiter, position) in positions { waiter.onPosition(position) }
        onDepth(state.withLock { $0.waiters.count })
    }
}

/// A provider behind a `ConcurrencyLimiter`: a call waits for a slot (reporting `.queued(position:)`, then
/// `.leftQueue` when its turn comes), and a full queue fails it with 503 `busy` without calling the upstream.
public struct QueuedProvider: ChatProvider {
    public let base: any ChatProvider
    public let limiter: ConcurrencyLimiter

    public init(_ base: any ChatProvider, limiter: ConcurrencyLimiter) {
        self.base = base
        self.limiter = limiter
    }

    public func streamChat(_ request: ChatRequest) -> ProviderStream {
        queued { $0.streamChat(request) }
    }

    /// A text completion in the same line as the chat calls, its slot held until its stream ends.
    public func streamText(_ request: TextCompletionRequest) -> ProviderStream {
        queued { $0.streamText(request) }
    }

    /// The call `open` makes of the base provider once it has a slot.
    private func queued(_ open: @escaping @Sendable (any ChatProvider) -> ProviderStream) -> ProviderStream {
        let base = self.base
        let limiter = self.limiter
        return ProviderStream {
            let slot = Slot(limiter)
            var queue: AsyncThrowingStream<Int, any Error>.Iterator?
            /// Whether the call reported a place in the queue (then it also reports leaving it).
            var placed = false
            var upstream: ProviderStream.Iterator?
            return .init {
                if upstream == nil {
                    // A free slot is taken at once; otherwise the call waits in line and reports its place.
                    if queue == nil {
                        if limiter.tryAcquire() { slot.take() } else { queue = slot.waitInLine().makeAsyncIterator() }
                    }
                    if queue != nil, let position = try await queue?.next() {
                        placed = true
                        return .queued(position: position)
                    }
                    queue = nil
                    // The line ends with this call's slot, or (its task cancelled) without one.
                    guard slot.isHeld else { throw CancellationError() }
                    upstream = open(base).makeAsyncIterator()
                    if placed { return .leftQueue }
                }
                do {
                    guard let event = try await upstream?.next() else {
                        slot.release()
                        return nil
                    }
                    return event
                } catch {
                    slot.release()
                    throw error
                }
            }
        }
    }

    /// A JSON call (embeddings, rerank) in the same line as the chat calls: a free slot at once, else a wait for one
    /// (a full queue is 503).
    public func send(_ call: UpstreamJSONCall) async throws -> [UInt8] {
        let slot = Slot(limiter)
        if limiter.tryAcquire() {
            slot.take()
        } else {
            for try await _ in slot.waitInLine() {}
        }
        guard slot.isHeld else { throw CancellationError() }
        defer { slot.release() }
        return try await base.send(call)
    }

    /// One call's slot of the limiter: released once, when the call ends or is abandoned.
    private final class Slot: Sendable {
        private let limiter: ConcurrencyLimiter
        /// Whether this call holds a slot that it has not given back.
        private let held = Mutex(false)

        init(_ limiter: ConcurrencyLimiter) { self.limiter = limiter }

        /// Records a slot taken by `tryAcquire` or by the wait in line.
        func take() { held.withLock { $0 = true } }

        var isHeld: Bool { held.withLock { $0 } }

        /// Waits for a slot in a task of its own, so that each change of place can be reported as an event; the
        /// stream ends when the slot is this call's and fails with 503 when the queue is full.
        func waitInLine() -> AsyncThrowingStream<Int, any Error> {
            let (places, continuation) = AsyncThrowingStream<Int, any Error>.makeStream()
            let limiter = self.limiter
            let task = Task {
                do {
                    try await limiter.acquire { continuation.yield($0) }
                    self.take()
                    continuation.finish()
                } catch is ConcurrencyLimiter.Full {
                    continuation.finish(throwing: ProviderError.http(
                        status: 503, message: "Sluice's queue for \(limiter.name) is full", retryAfter: "1"))
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
            return places
        }

        func release() {
            let wasHeld = held.withLock { held in
                defer { held = false }
                return held
            }
            if wasHeld { limiter.release() }
        }

        deinit { release() }
    }

    public func checkReady() async throws { try await base.checkReady() }

    public func readiness(named name: String) async -> [UpstreamReadiness] { await base.readiness(named: name) }
}
