import HTTPTypes
import Hummingbird
import NIOCore
import SluiceCore

/// Writes the events of a turn to the client as `text/event-stream`, each flushed the moment it exists, with a
/// `: ping` comment after `pingInterval` of silence. A write that fails means the client left: the
/// generation is told, and it still stores what it has.
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
        first: TurnEvent, turn: ChatTurn, plan: ChatTurn.Plan, registry: GenerationRegistry
    ) -> Response {
        let pingInterval = turn.settings.pingInterval
        let body = ResponseBody { writer in
            let control = TurnControl()
            await registry.register(plan.assistantMessageID, control)
            let (events, continuation) = AsyncStream<Outgoing>.makeStream()
            continuation.yield(.event(first))
            var clientGone = false
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    await turn.run(plan, control: control) { continuation.yield(.event($0)) }
                    continuation.finish()
                }
                group.addTask {
                    while !Task.isCancelled {
                        do { try await Task.sleep(for: pingInterval / 4) } catch { return }
                        continuation.yield(.tick)
                    }
                }
                var lastWrite = ContinuousClock.now
                for await item in events where !clientGone {
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
                        control.stop(.clientDisconnected)
                    }
                }
                group.cancelAll()
            }
            await registry.unregister(plan.assistantMessageID)
            if !clientGone { try await writer.finish(nil) }
        }
        return Response(status: .ok, headers: headers, body: body)
    }
}
