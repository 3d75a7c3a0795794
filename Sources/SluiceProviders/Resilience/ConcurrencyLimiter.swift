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

/// A provider behind a `ConcurrencyLimiter`: a call waits for a slot (reporting `.queued(position:)`), and a
/// full queue fails it with 503 `busy` without calling the upstream.
public struct QueuedProvider: ChatProvider {
    public let base: any ChatProvider
    public let limiter: ConcurrencyLimiter

    public init(_ base: any ChatProvider, limiter: ConcurrencyLimiter) {
        self.base = base
        self.limiter = limiter
    }

    public func streamChat(_ request: ChatRequest) -> AsyncThrowingStream<ProviderEvent, any Error> {
        let base = self.base
        let limiter = self.limiter
        return .provider { continuation in
            do {
                try await limiter.acquire { continuation.yield(.queued(position: $0)) }
            } catch is ConcurrencyLimiter.Full {
                throw ProviderError.http(status: 503, message: "Sluice's queue for \(limiter.name) is full", retryAfter: "1")
            }
            defer { limiter.release() }
            for try await event in base.streamChat(request) { continuation.yield(event) }
        }
    }

    public func checkReady() async throws { try await base.checkReady() }
}
