import Synchronization

/// How the simulator's streamed answers ended, served at `GET /stats`: tests use `abandoned` to see that Sluice
/// really closed the upstream connection when an answer was cancelled, and `embeddings` to see whether an
/// embeddings call came upstream at all.
final class StreamTally: Sendable {
    enum Outcome { case started, completed, abandoned, embedded }

    private let counts = Mutex<(started: Int, completed: Int, abandoned: Int, embedded: Int)>((0, 0, 0, 0))

    func record(_ outcome: Outcome) {
        counts.withLock {
            switch outcome {
            case .started: $0.started += 1
            case .completed: $0.completed += 1
            case .abandoned: $0.abandoned += 1
            case .embedded: $0.embedded += 1
            }
        }
    }

    func json() -> String {
        let (started, completed, abandoned, embedded) = counts.withLock { ($0.started, $0.completed, $0.abandoned, $0.embedded) }
        return "{\"streams_started\":\(started),\"streams_completed\":\(completed),\"streams_abandoned\":\(abandoned),\"embeddings\":\(embedded)}"
    }
}
