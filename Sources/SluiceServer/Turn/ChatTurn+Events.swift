import SluiceCore

extension ChatTurn {
    /// What one upstream event does to the answer: the text through the redactor into the progress and out as a
    /// token, function calls, thinking, usage, the queue. Synchronous and out of line: its locals live on the
    /// thread's stack rather than in the frame of the attempt's task, which the task keeps while the answer streams
    /// (the frame was 5.7 KB with this inside it).
    @inline(never)
    func take(
        _ event: ProviderEvent, at now: ContinuousClock.Instant, plan: Plan, progress: ProgressBox,
        emit: @Sendable (TurnEvent) -> Void
    ) {
        switch event {
        case .delta(let upstreamText):
            let (released, seq, snapshot, logprobs, thought) = progress.withLock {
                state -> (String, Int, ProgressUpdate?, [TokenLogprob], String?) in
                state.markOutput(at: now, timings: plan.timings)
                // The answer begins: the thinking is over, and what its redactor held back is shown before it.
                let thought = state.thinkingSince == nil ? nil : state.finishThinking(at: now)
                // What the redactor holds back waits for the next piece; nothing is numbered for it yet.
                // (What the redactor replaced matters only to the log probabilities' alignment.)
                let redactedBefore = state.logprobs == nil ? 0 : state.redactor?.redactions.count ?? 0
                let text = state.redactor?.feed(upstreamText) ?? upstreamText
                let logprobs = state.logprobs?.release(
                    shown: text, fedBytes: upstreamText.utf8.count, heldBackBytes: state.redactor?.heldBackByteCount ?? 0,
                    redacted: (state.redactor?.redactions.count ?? 0) > redactedBefore) ?? []
                guard !text.isEmpty else { return ("", state.seq, nil, logprobs, thought) }
                state.content += text
                state.tokenEnds.append(state.content.utf8.count)
                state.seq += 1
                guard now - state.lastFlush >= settings.flushInterval else { return (text, state.seq, nil, logprobs, thought) }
                state.lastFlush = now
                return (text, state.seq, state.snapshot(of: plan.assistantMessageID, at: now), logprobs, thought)
            }
            if let thought, !thought.isEmpty { emit(.reasoning(thought)) }
            // Before the token they describe: the wire puts them in that token's chunk.
            if !logprobs.isEmpty { emit(.logprobs(logprobs)) }
            guard !released.isEmpty else { return }
            emit(.token(messageID: plan.assistantMessageID, seq: seq, text: released))
            if let snapshot { progressWriter.record(snapshot) }
        case .toolCall(let piece):
            // A call is the answer's first output as text is: the first-token deadline and the idle timeout
            // see it.
            let released = progress.withLock { state -> ToolCallDelta in
                state.markOutput(at: now, timings: plan.timings)
                var delta = piece
                if let fresh = state.freshRedactor {
                    var redactor = state.toolRedactors[delta.index] ?? fresh
                    delta.arguments = redactor.feed(delta.arguments)
                    state.toolRedactors[delta.index] = redactor
                }
                state.toolCalls.apply(delta)
                return delta
            }
            if released.id != nil || !released.arguments.isEmpty { emit(.toolCall(released)) }
        case .reasoning(let thinking):
            let (released, snapshot) = progress.withLock { state -> (String, ProgressUpdate?) in
                let released = state.think(thinking, at: now, timings: plan.timings)
                // Saved as the answer's text is: a crash mid-thought loses only its last moments.
                guard !released.isEmpty, now - state.lastFlush >= settings.flushInterval else { return (released, nil) }
                state.lastFlush = now
                return (released, state.snapshot(of: plan.assistantMessageID, at: now))
            }
            if !released.isEmpty { emit(.reasoning(released)) }
            if let snapshot { progressWriter.record(snapshot) }
        case .signedThinking(let block):
            let (rest, kept) = progress.withLock { state -> (String, Bool) in
                state.markOutput(at: now, timings: plan.timings)
                // The block's text is all shown before its signature: what its redactor held back goes now.
                let rest = state.finishThinking(at: now)
                // The signature covers the text as the model wrote it: thinking shown redacted cannot go back.
                guard state.reasoningRedactions.isEmpty else {
                    state.signedThinking = []
                    return (rest, false)
                }
                state.signedThinking.append(block)
                return (rest, true)
            }
            if !rest.isEmpty { emit(.reasoning(rest)) }
            if kept { emit(.signedThinking(block)) }
        case .logprobs(let entries):
            progress.withLock { $0.logprobs?.receive(entries) }
        case .usage(let usage):
            progress.withLock { $0.usage = usage; $0.lastActivity = now }
        case .finish(let reason):
            progress.withLock { $0.finishReason = reason; $0.lastActivity = now }
        case .queued(let position):
            // Waiting for a slot is not the upstream being slow: the first-token clock starts when the wait ends.
            progress.withLock {
                $0.waitingForSlot = true
                $0.attemptStartedAt = now
            }
            emit(.status(.init(state: "queued", position: position)))
        case .leftQueue:
            progress.withLock {
                $0.waitingForSlot = false
                $0.attemptStartedAt = now
            }
        case .textCompletion:
            // Only `streamText` makes these; a chat call never asks for one.
            break
        }
    }
}
