import HTTPTypes
import Hummingbird
import NIOCore
import SluiceCore

/// Writes turn events to the client as `text/event-stream`, each flushed the moment it exists, with a
/// `: ping` comment after `pingInterval` of silence. A write that fails means the client left: the
/// follower stops (the generation itself goes on unless `onClientGone` stops it). With an `executor` (the
/// connection's event loop), the writing runs where the socket is written.
enum TurnStreamResponse {
    private enum Outgoing: Sendable {
        case event(TurnEvent)
        case tick
    }

    static var headers: HTTPFields {
        [
            .contentType: "text/event-stream; charset=utf-8",
            .cacheControl: "no-cache",
            .connection: "keep-alive",
            HTTPField.Name("X-Accel-Buffering")!: "no",
        ]
    }

    static func make(
        prefix: [TurnEvent], events source: some AsyncSequence<TurnEvent, Never> & Sendable, pingInterval: Duration,
        executor: (any TaskExecutor)? = nil, onClientGone: @escaping @Sendable () -> Void = {}
    ) -> Response {
        let body = ResponseBody { writer in
            try await withTaskExecutorPreference(executor) {
                try await write(prefix: prefix, events: source, pingInterval: pingInterval, to: &writer, onClientGone: onClientGone)
            }
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    private static func write(
        prefix: [TurnEvent], events source: some AsyncSequence<TurnEvent, Never> & Sendable, pingInterval: Duration,
        to writer: inout any ResponseBodyWriter, onClientGone: @Sendable () -> Void
    ) async throws {
        let (outgoing, continuation) = AsyncStream<Outgoing>.makeStream()
        for event in prefix { continuation.yield(.event(event)) }
        var clientGone = false
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await event in source { continuation.yield(.event(event)) }
                continuation.finish()
            }
            group.addTask {
                while !Task.isCancelled {
                    do { try await Task.sleep(for: pingInterval / 4) } catch { return }
                    continuation.yield(.tick)
                }
            }
            var lastWrite = ContinuousClock.now
            for await item in outgoing {
                do {
                    switch item {
                    case .event(let event):
                        try await writer.write(ByteBuffer(string: event.serverSentEvent.encoded))
                        lastWrite = .now
                    case .tick:
                        guard ContinuousClock.now - lastWrite >= pingInterval else { continue }
                        try await writer.write(ByteBuffer(string: ServerSentEvent.comment("ping")))
                        lastWrite = .now
                    }
                } catch {
                    clientGone = true
                    onClientGone()
                    break
                }
            }
            group.cancelAll()
        }
        if !clientGone { try await writer.finish(nil) }
    }
}
