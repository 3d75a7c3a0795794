import SluiceCore

/// Replays an answer from the store for a client resuming from `after`: its thinking (from the start only; as it
/// grows, while another instance writes it), the
/// tokens it missed, the function calls it made (each whole, once the answer has ended: calls are stored with the
/// answer's end), then the end.
/// If the answer is still `streaming` but not running in this process (another instance writes it), the
/// store is polled until it ends — or until this instance is asked to stop (`drain`): the stream then ends without
/// an end event, and the client, which reconnects to a stream cut short, follows the answer on another instance.
enum StoredReplay {
    static func events(
        messageID: String, after seq: Int, store: any ConversationStore, drain: ShutdownDrain? = nil,
        pollInterval: Duration = .milliseconds(250), maxPolls: Int = 14_400
    ) -> AsyncStream<TurnEvent> {
        AsyncStream { continuation in
            let task = Task {
                var sent = max(seq, 0)
                var polls = 0
                // The thinking's bytes sent so far; a client past the first token has seen it all.
                var thoughtSent = seq > 0 ? nil : 0
                while !Task.isCancelled, let message = try? await store.message(id: messageID) {
                    // Thinking is saved with the answer's text as it streams, and only ever grows.
                    if let sent = thoughtSent, let reasoning = message.reasoning, reasoning.utf8.count > sent {
                        thoughtSent = reasoning.utf8.count
                        continuation.yield(.reasoning(String(decoding: reasoning.utf8.dropFirst(sent), as: UTF8.self)))
                    }
                    let tokens = message.tokens(after: sent)
                    for text in tokens {
                        sent += 1
                        continuation.yield(.token(messageID: messageID, seq: sent, text: text))
                    }
                    if message.status != .streaming {
                        for (index, call) in message.toolCalls.enumerated() {
                            continuation.yield(.toolCall(ToolCallDelta(index: index, id: call.id, name: call.name, arguments: call.arguments)))
                        }
                        continuation.yield(terminal(of: message))
                        break
                    }
                    polls += 1
                    guard polls < maxPolls, drain?.hasBegun != true else { break }
                    try? await Task.sleep(for: pollInterval)
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// The `done` or `error` event that ended a stored answer.
    static func terminal(of message: Message) -> TurnEvent {
        switch message.status {
        case .complete, .cancelled:
            return .done(.init(
                usage: WireUsage(message.usage), ttftMs: message.ttftMs, durationMs: message.durationMs ?? 0,
                finishReason: message.status == .cancelled ? "cancelled" : message.finishReason,
                model: message.model ?? ""))
        case .partial, .error, .streaming, .rejected:
            return .error(.init(
                code: message.errorCode ?? "interrupted",
                message: message.error ?? "This answer did not finish.",
                retryable: true, partial: !message.content.isEmpty || !message.toolCalls.isEmpty))
        }
    }
}
