import Synchronization
import SluiceCore

/// Reads one upstream call's stream in a task of its own, so that a route can wait for the first event (and answer
/// with the upstream's status when it fails) and its response body can read the rest after the route has returned.
/// The call is given up when no event comes within `firstEvent` (a wait in the model's queue does not count; the
/// circuit breaker counts it as the upstream's failure, as a chat turn's first-token timeout), or when the stream
/// falls silent for `idle` after it started, and — with a `drain` — when the grace of a Sluice asked to stop is over
/// (`ShutdownDrain.GraceOver`). The call is cancelled when the reader goes away (`events` released, a client that left)
/// or `cancel()` is called.
final class UpstreamRelay: Sendable {
    /// The call's events, queue news included; throws the call's failure or `UpstreamRelay.Silent`.
    let events: AsyncThrowingStream<ProviderEvent, any Error>
    private let task: Task<Void, Never>

    /// The stream fell silent for `after` once it had started.
    struct Silent: Error {
        let after: Duration
    }

    /// When the call started (or left the model's queue) and last said something; shared by its two tasks.
    private final class Activity: Sendable {
        struct State {
            var startedAt = ContinuousClock.now
            var lastEventAt: ContinuousClock.Instant?
            var waitingForSlot = false
        }
        let state = Mutex(State())
    }

    init(_ stream: ProviderStream, firstEvent: Duration, idle: Duration, drain: ShutdownDrain? = nil) {
        let (events, continuation) = AsyncThrowingStream.makeStream(of: ProviderEvent.self)
        self.events = events
        // Unstructured because the call outlives the route that starts it: the response body reads it afterwards.
        // It ends with its stream, and is cancelled with the reader (`onTermination`).
        task = Task {
            let clock = Activity()
            let watch = FirstTokenWatch()
            do {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try await FirstTokenWatch.$current.withValue(watch) {
                            for try await event in stream {
                                let now = ContinuousClock.now
                                clock.state.withLock { state in
                                    switch event {
                                    case .queued:
                                        state.waitingForSlot = true
                                        state.startedAt = now
                                    case .leftQueue:
                                        state.waitingForSlot = false
                                        state.startedAt = now
                                    default:
                                        state.lastEventAt = now
                                    }
                                }
                                continuation.yield(event)
                            }
                        }
                    }
                    group.addTask {
                        while true {
                            let (deadline, started) = clock.state.withLock { state -> (ContinuousClock.Instant, Bool) in
                                if let last = state.lastEventAt { return (last + idle, true) }
                                return (state.waitingForSlot ? .now + firstEvent : state.startedAt + firstEvent, false)
                            }
                            if ContinuousClock.now >= deadline {
                                let error: any Error = started ? Silent(after: idle) : ProviderError.firstTokenTimeout(after: firstEvent)
                                if !started { watch.markExpired() }
                                // The reader hears of it at once, however long the call takes to be cancelled.
                                continuation.finish(throwing: error)
                                throw error
                            }
                            // Before the first event, look again an idle period later: the deadline becomes the
                            // idle one as soon as the stream starts.
                            try await Task.sleep(until: started ? deadline : min(deadline, .now + idle), clock: .continuous)
                        }
                    }
                    if let drain {
                        group.addTask {
                            await drain.waitForGraceEnd()
                            // Returned because the call ended (the group cancelled it): nothing to say.
                            try Task.checkCancellation()
                            let error = ShutdownDrain.GraceOver()
                            continuation.finish(throwing: error)
                            throw error
                        }
                    }
                    // The first to end is the stream (or a deadline, or the drain): the others are not needed any more.
                    try await group.next()
                    group.cancelAll()
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        let task = self.task
        continuation.onTermination = { _ in task.cancel() }
    }

    /// Gives up the call (its request is cancelled).
    func cancel() { task.cancel() }
}
