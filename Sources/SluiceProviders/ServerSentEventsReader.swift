import AsyncHTTPClient
import NIOCore
import SluiceCore

/// What one upstream SSE event's `data` says.
enum StreamStep: Equatable {
    /// One event: most chunks are one piece of text, and this needs no array.
    case event(ProviderEvent)
    case events([ProviderEvent])
    /// The upstream's end marker (`[DONE]`, `message_stop`): nothing after it is read.
    case endOfStream
}

/// Turns the `data` of an upstream's SSE events into provider events (one decoder per call).
protocol StreamEventDecoder {
    mutating func decode(_ data: String) throws -> StreamStep
    /// Whether the upstream has said why it stopped: a clean close without the end marker is then complete.
    var sawStop: Bool { get }
}

extension ProviderStream {
    /// An upstream call answered with Server-Sent Events. `send` makes the request; a status other than 200 becomes
    /// `ProviderError.http` with the upstream's message and `Retry-After`; each event's data goes through `decoder`. The response body is read
    /// inside the consumer's `next()`, so each token costs one wake-up of the consuming task.
    static func serverSentEvents<Decoder: StreamEventDecoder & Sendable>(
        decoder: Decoder, send: @escaping @Sendable () async throws -> HTTPClientResponse
    ) -> ProviderStream {
        ProviderStream {
            let reader = ServerSentEventsReader(decoder: decoder, send: send)
            return Iterator { try await reader.next() }
        }
    }
}

/// Reads one SSE response on demand: sends the request at the first `next()`, then reads body parts until
/// they yield events. Confined to the task that iterates it.
final class ServerSentEventsReader<Decoder: StreamEventDecoder> {
    private enum Phase {
        case notSent
        case reading(HTTPClientResponse.Body.AsyncIterator)
        case ended
    }
    private var phase = Phase.notSent
    private var parser = SSEParser()
    private var decoder: Decoder
    private var pending: [ProviderEvent] = []
    private var nextPending = 0
    private let send: @Sendable () async throws -> HTTPClientResponse

    init(decoder: Decoder, send: @escaping @Sendable () async throws -> HTTPClientResponse) {
        self.decoder = decoder
        self.send = send
    }

    func next() async throws -> ProviderEvent? {
        do {
            return try await advance()
        } catch {
            phase = .ended
            pending = []
            nextPending = 0
            throw Task.isCancelled ? CancellationError() : UpstreamFailure.transport(error)
        }
    }

    private func advance() async throws -> ProviderEvent? {
        while true {
            if nextPending < pending.count {
                nextPending += 1
                return pending[nextPending - 1]
            }
            pending.removeAll(keepingCapacity: true)
            nextPending = 0
            switch phase {
            case .ended:
                return nil
            case .notSent:
                let response = try await send()
                guard response.status == .ok else {
                    let body = try? await response.body.collect(upTo: 64 * 1024)
                    throw ProviderError.http(
                        status: Int(response.status.code), message: UpstreamFailure.message(from: body),
                        retryAfter: response.headers.first(name: "Retry-After"))
                }
                phase = .reading(response.body.makeAsyncIterator())
            case .reading(var body):
                phase = .ended
                guard let buffer = try await body.next() else {
                    parser.finish()
                    // A body cut short by our own cancellation is not the upstream's fault.
                    if Task.isCancelled { throw CancellationError() }
                    // A clean close without the end marker is fine once the model said why it stopped.
                    guard decoder.sawStop else {
                        throw ProviderError.connection("the upstream closed the stream before the answer was complete")
                    }
                    return nil
                }
                phase = .reading(body)
                for event in parser.feed(buffer.readableBytesView) {
                    switch try decoder.decode(event.data) {
                    case .event(let event):
                        pending.append(event)
                    case .events(let events):
                        pending += events
                    case .endOfStream:
                        phase = .ended
                    }
                    if case .ended = phase { break }
                }
            }
        }
    }
}
