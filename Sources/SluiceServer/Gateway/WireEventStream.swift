import HTTPTypes
import Hummingbird
import NIOCore
import SluiceCore

/// An answer's events in a wire other than OpenAI's chunks (Anthropic's Messages events, the Responses API's): the
/// text to write for each of the turn's events, and whether the stream has ended.
protocol WireEventStream: Sendable {
    /// What opens the stream; written with the first event's text.
    mutating func opening() -> String
    /// The text for one turn event; `nil` when it has none.
    mutating func text(for event: TurnEvent) -> String?
    var ended: Bool { get }
}

extension GatewayRoutes {
    /// A streamed answer in `stream`'s wire, from the turn's first event to its end, written on the client's event
    /// loop; a client that goes away stops the generation when the settings say so.
    func streamed(_ turn: Turn, as stream: some WireEventStream, headers: HTTPFields, context: SluiceRequestContext) -> Response {
        var headers = headers
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        let events = turn.started.events
        let generation = turn.started.generation
        let stopOnDisconnect = launcher.turn.settings.stopOnDisconnect
        let first = turn.first
        let executor = context.executor
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            try await withTaskExecutorPreference(executor) {
                do {
                    try await Self.writeEvents(first: first, rest: events, stream: stream, to: &writer)
                } catch {
                    events.stopReading()
                    if stopOnDisconnect { generation.control.stop(.clientDisconnected) }
                    throw error
                }
            }
        })
    }

    private static func writeEvents(
        first: TurnEvent?, rest events: EventFeed, stream: some WireEventStream, to writer: inout any ResponseBodyWriter
    ) async throws {
        var stream = stream
        var opening: String? = stream.opening()
        var next = first
        try await events.reading {
            while let event = next {
                if let text = stream.text(for: event) { try await writer.write(ByteBuffer(string: (opening.take() ?? "") + text)) }
                if stream.ended { break }
                next = await events.nextWhileReading()
            }
        }
        try await writer.finish(nil)
    }
}
