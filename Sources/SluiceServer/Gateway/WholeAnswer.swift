import SluiceCore

/// A non-streamed gateway answer, read whole from the turn's events: its text, its function calls and its end.
struct WholeAnswer {
    var text = ""
    var toolCalls: [ToolCall] = []
    /// The log probabilities of the text's tokens (when the caller asked for them).
    var logprobs: [TokenLogprob] = []
    /// A reasoning model's thinking.
    var reasoning = ""
    /// That thinking as Anthropic signed it, block by block (empty for other models, or when it was redacted).
    var signedThinking: [SignedThinking] = []
    var done: TurnEvent.Done

    /// Reads the events from `first` to the end. A failure, even after some text (kept in Sluice's store), is the
    /// HTTP error a gateway call gets.
    static func collect(first: TurnEvent?, rest: inout EventFeed.Iterator) async throws -> WholeAnswer {
        var text = ""
        var toolCalls: [ToolCall] = []
        var logprobs: [TokenLogprob] = []
        var reasoning = ""
        var signed: [SignedThinking] = []
        var next = first
        while let event = next {
            switch event {
            case .token(_, _, let piece): text += piece
            case .toolCall(let piece): toolCalls.apply(piece)
            case .logprobs(let entries): logprobs += entries
            case .reasoning(let piece): reasoning += piece
            case .signedThinking(let block): signed.append(block)
            case .done(let done):
                return WholeAnswer(
                    text: text, toolCalls: toolCalls, logprobs: logprobs, reasoning: reasoning, signedThinking: signed, done: done)
            case .error(let failure): throw OpenAIWire.apiError(failure)
            case .meta, .status: break
            }
            next = await rest.next()
        }
        throw OpenAIWire.endedWithoutResult(partial: !text.isEmpty)
    }
}
