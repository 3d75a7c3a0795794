import SluiceCore
import SluiceGuard

/// A reasoning model's thinking (`ProviderEvent.reasoning`), and what every kind of output does to a turn's clocks.
extension ChatTurn.Progress {
    /// Output arrived — text, a function call or thinking: the upstream is alive (the idle timeout restarts), and
    /// the first of it ends the wait for the first token (its deadline, `ttft_ms`, `Server-Timing`). A model that
    /// thinks for a minute before its first word is answering, not silent.
    mutating func markOutput(at now: ContinuousClock.Instant, timings: TurnTimings?) {
        lastActivity = now
        if firstTokenAt == nil {
            firstTokenAt = now
            timings?.mark(.firstToken, at: now)
        }
    }

    /// Takes a piece of thinking and returns what can be shown of it now: it is redacted as the answer is (a model
    /// thinks aloud about its system prompt as readily as it quotes it), by a redactor of its own.
    mutating func think(_ piece: String, at now: ContinuousClock.Instant, timings: TurnTimings?) -> String {
        markOutput(at: now, timings: timings)
        if thinkingSince == nil { thinkingSince = now }
        var shown = piece
        if let fresh = freshRedactor {
            var redactor = reasoningRedactor ?? fresh
            shown = redactor.feed(piece)
            reasoningRedactor = redactor
        }
        reasoning += shown
        return shown
    }

    /// The whole thinking to store at `now` — a continued answer's earlier thinking, then this call's — and how long
    /// it has taken; `nil`s (which leave what is stored) while this call has not thought.
    func storedThinking(at now: ContinuousClock.Instant) -> (reasoning: String?, milliseconds: Int?) {
        guard !reasoning.isEmpty else { return (nil, nil) }
        let whole = priorReasoning.map { $0.isEmpty ? reasoning : $0 + "\n\n" + reasoning } ?? reasoning
        let thinking = thoughtFor + (thinkingSince.map { now - $0 } ?? .zero)
        return (whole, priorReasoningMs + ChatTurn.milliseconds(thinking))
    }

    /// The answer so far, for the progress writer.
    func snapshot(of messageID: String, at now: ContinuousClock.Instant) -> ProgressUpdate {
        let thinking = storedThinking(at: now)
        return ProgressUpdate(
            messageID: messageID, content: content, tokenEnds: tokenEnds,
            reasoning: thinking.reasoning, reasoningMs: thinking.milliseconds)
    }

    /// Ends a stretch of thinking at `now`: returns (and appends) what its redactor still held back, and notes how long
    /// it took and what it redacted.
    mutating func finishThinking(at now: ContinuousClock.Instant) -> String {
        if let since = thinkingSince {
            thoughtFor += now - since
            thinkingSince = nil
        }
        guard var redactor = reasoningRedactor else { return "" }
        let rest = redactor.finish()
        reasoningRedactor = nil
        reasoning += rest
        reasoningRedactions += redactor.redactions
        return rest
    }
}
