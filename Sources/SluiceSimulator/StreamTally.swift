import Synchronization

/// How the simulator's streamed answers ended, served at `GET /stats`: tests use `abandoned` to see that Sluice
/// really closed the upstream connection when an answer was cancelled, and `embeddings` and `rerank` to see whether
/// such a call came upstream at all.
final class StreamTally: Sendable {
    enum Outcome { case started, completed, abandoned, embedded, reranked }

    private let counts = Mutex<(started: Int, completed: Int, abandoned: Int, embedded: Int, reranked: Int)>((0, 0, 0, 0, 0))

    func record(_ outcome: Outcome) {
        counts.withLock {
            switch outcome {
            case .started: $0.started += 1
            case .completed: $0.completed += 1
            case .abandoned: $0.abandoned += 1
            case .embedded: $0.embedded += 1
            case .reranked: $0.reranked += 1
            }
        }
    }

    func json() -> String {
        let (started, completed, abandoned, embedded, reranked) = counts.withLock {
            ($0.started, $0.completed, $0.abandoned, $0.embedded, $0.reranked)
        }
        return "{\"streams_started\":\(started),\"streams_completed\":\(completed),\"streams_abandoned\":\(abandoned),\"embeddings\":\(embedded),\"rerank\":\(reranked)}"
    }
}

/// The body of the latest chat completion request, served at `GET /last-request`: what Sluice sent upstream, for
/// tests that must see it as the upstream did (personal details masked, for one) rather than through an answer.
final class LastRequest: Sendable {
    private let body = Mutex<[UInt8]>(Array("{}".utf8))

    func record(_ bytes: [UInt8]) { body.withLock { $0 = bytes } }

    var json: String { String(decoding: body.withLock { $0 }, as: UTF8.self) }
}
