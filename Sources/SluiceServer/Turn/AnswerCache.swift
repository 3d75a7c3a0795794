import Crypto
import Foundation
import SluiceCore
import Synchronization

/// The last answers to deterministic requests (temperature 0), kept in memory: when every model fails, an
/// answer to the identical request (same model, same messages) is served instead of an error, marked
/// `cached`. Bounded; the oldest entries go first.
public final class AnswerCache: Sendable {
    private struct State {
        var answers: [String: String] = [:]
        var order: [String] = []
    }
    private let state = Mutex(State())
    public let capacity: Int

    public init(capacity: Int = 1000) {
        self.capacity = max(1, capacity)
    }

    /// Only a temperature-0 request is answered the same way twice, so only those are kept.
    static func key(for request: ChatRequest) -> String? {
        guard request.temperature == 0 else { return nil }
        var hasher = SHA256()
        hasher.update(data: Data(request.model.utf8))
        for message in request.messages {
            hasher.update(data: Data([0]))
            hasher.update(data: Data(message.role.rawValue.utf8))
            hasher.update(data: Data([0]))
            hasher.update(data: Data(message.content.utf8))
            for image in message.images {
                hasher.update(data: Data([2]))
                hasher.update(data: Data(image.url.utf8))
            }
        }
        // The same messages with other stop sequences or another seed are another request.
        if request.sampling != SamplingOptions() {
            hasher.update(data: Data([1]))
            hasher.update(data: Data(String(describing: request.sampling).utf8))
        }
        return HexDigits.lowercase(hasher.finalize())
    }

    func store(_ answer: String, for request: ChatRequest) {
        guard let key = Self.key(for: request), !answer.isEmpty else { return }
        state.withLock { state in
            if state.answers.updateValue(answer, forKey: key) == nil { state.order.append(key) }
            while state.order.count > capacity { state.answers[state.order.removeFirst()] = nil }
        }
    }

    func answer(for request: ChatRequest) -> String? {
        guard let key = Self.key(for: request) else { return nil }
        return state.withLock { $0.answers[key] }
    }
}
