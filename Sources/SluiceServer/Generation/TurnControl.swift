import Synchronization

/// Why a generation was stopped from outside its own stream.
enum StopReason: Sendable, Equatable {
    case userCancelled
    case clientDisconnected
    /// Another answer of the same gateway call (`n`) failed, and the call with it.
    case otherAnswerFailed
    /// No upstream event for the idle timeout once text had started.
    case idleTimeout
    /// The answer ran longer than the total timeout.
    case totalTimeout
}

/// The handle through which a running generation is stopped: by the cancel endpoint, by the SSE writer when
/// the client goes away, or by the idle watchdog. The first reason given wins.
final class TurnControl: Sendable {
    private let reason = Mutex<StopReason?>(nil)
    private let signal: AsyncStream<Void>
    private let signalContinuation: AsyncStream<Void>.Continuation

    init() {
        (signal, signalContinuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// The reason the generation was stopped, if it was.
    var stopReason: StopReason? { reason.withLock { $0 } }

    /// Asks the generation to stop; later calls keep the first reason.
    func stop(_ newReason: StopReason) {
        let isFirst = reason.withLock { current in
            guard current == nil else { return false }
            current = newReason
            return true
        }
        if isFirst {
            signalContinuation.yield()
            signalContinuation.finish()
        }
    }

    /// Returns once `stop` has been called (or the calling task is cancelled).
    func waitForStop() async {
        for await _ in signal { return }
    }
}
