import Synchronization

/// How the simulator's streamed answers ended, served at `GET /stats`: tests use `abandoned` to see that Sluice
/// really closed the upstream connection when an answer was cancelled.
final class StreamTally: Sendable {
    enum Outcome { case started, completed, abandoned }

    private let counts = Mutex<(started: Int, completed: Int, abandoned: Int)>((0, 0, 0))

    func record(_ outcome: Outcome) {
        counts.withLock {
            switch outcome {
            case .started: $0.started += 1
            case .completed: $0.completed += 1
            case .abandoned: $0.abandoned += 1
            }
        }
    }

    func json() -> String {
        let (started, completed, abandoned) = counts.withLock { ($0.started, $0.completed, $0.abandoned) }
        return "{\"streams_started\":\(started),\"streams_completed\":\(completed),\"streams_abandoned\":\(abandoned)}"
    }
}
