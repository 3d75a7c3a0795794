import Foundation
import Logging
import SluiceCore
import SluiceGuard

/// How a turn ends: what it shows last, what it costs, how it is stored and which event closes it.
extension ChatTurn {
    /// Everything after the answer's stream: the redactor's last text, the cached answer when every model failed, the
    /// usage, the settle-and-store commit and the end event. Out of line: `run`'s frame is what the generation's task
    /// holds while the answer streams (a task keeps its largest frame until it ends), and this part was most of it.
    @inline(never)
    func finish(
        _ plan: Plan, progress: ProgressBox, control: TurnControl, start: ContinuousClock.Instant, countedInput: Int?,
        logger: Logger, emit: @Sendable (TurnEvent) -> Void
    ) async {
        let clock = ContinuousClock()
        // Text the redactor still held back is part of the answer: it is shown (redacted) before the end event.
        let (tail, callTails, redactions, tailLogprobs, thought) = progress.withLock {
            state -> ((Int, String)?, [ToolCallDelta], [String], [TokenLogprob], String) in
            // Thinking that never reached an answer (cut off, or the answer is function calls only).
            let thought = state.finishThinking(at: clock.now)
            guard var redactor = state.redactor else {
                return (nil, [], [], state.logprobs?.release(shown: "", fedBytes: 0, heldBackBytes: 0, redacted: false) ?? [], thought)
            }
            // What each call's redactor held back ends its arguments.
            var callTails: [ToolCallDelta] = []
            var redactions: [String] = []
            for index in state.toolRedactors.keys.sorted() {
                var callRedactor = state.toolRedactors[index]!
                let rest = callRedactor.finish()
                redactions += callRedactor.redactions
                guard !rest.isEmpty else { continue }
                let delta = ToolCallDelta(index: index, arguments: rest)
                state.toolCalls.apply(delta)
                callTails.append(delta)
            }
            state.toolRedactors = [:]
            let redactedBefore = redactor.redactions.count
            let rest = redactor.finish()
            let logprobs = state.logprobs?.release(
                shown: rest, fedBytes: 0, heldBackBytes: 0, redacted: redactor.redactions.count > redactedBefore) ?? []
            state.redactor = redactor
            redactions = state.reasoningRedactions + redactor.redactions + redactions
            guard !rest.isEmpty else { return (nil, callTails, redactions, logprobs, thought) }
            state.content += rest
            state.tokenEnds.append(state.content.utf8.count)
            state.seq += 1
            return ((state.seq, rest), callTails, redactions, logprobs, thought)
        }
        if !thought.isEmpty { emit(.reasoning(thought)) }
        if !tailLogprobs.isEmpty { emit(.logprobs(tailLogprobs)) }
        if let (seq, text) = tail { emit(.token(messageID: plan.assistantMessageID, seq: seq, text: text)) }
        for piece in callTails { emit(.toolCall(piece)) }
        if !redactions.isEmpty {
            for kind in redactions { metrics.outputRedacted(kind: kind) }
            logger.warning("redacted the model's answer before it reached the client", metadata: [
                "redactions": "\(redactions.joined(separator: ","))", "model": "\(progress.withLock { $0.model })",
            ])
        }

        // Every model failed before any text: an earlier answer to the identical temperature-0 request beats an
        // error. It is marked cached and costs nothing.
        let fromResponseCache = progress.withLock { $0.fromResponseCache }
        var servedFromCache = fromResponseCache
        // Not for a caller that asked for log probabilities: the cached answer has none.
        if let answerCache, plan.prior == nil, plan.request.tools == nil, plan.request.sampling.logprobs == nil,
            control.stopReason != .userCancelled,
            progress.withLock({ !$0.completed && $0.content.isEmpty }), let cached = answerCache.answer(for: plan.request)
        {
            progress.withLock {
                $0.content = cached
                $0.tokenEnds = [cached.utf8.count]
                $0.seq = 1
                $0.completed = true
                $0.finishReason = "stop"
                $0.model = plan.request.model
                $0.usage = nil
            }
            emit(.token(messageID: plan.assistantMessageID, seq: 1, text: cached))
            servedFromCache = true
            metrics.servedFromCache(model: plan.request.model)
            logger.warning("every model failed: served the cached answer to the identical request")
        }

        let final = progress.withLock { $0 }
        // The model that answered: the requested one, or the fallback that took over.
        let model = final.model
        let (content, finishReason, error, completed, retries) =
            (final.content, final.finishReason, final.error, final.completed, final.retries)
        let newText = String(decoding: content.utf8.dropFirst(plan.prior?.content.utf8.count ?? 0), as: UTF8.self)
        // A turn that produced nothing and reported nothing cost nothing: nothing is counted for it.
        let generated = !servedFromCache && (completed || !newText.isEmpty || !final.reasoning.isEmpty)
        // A reasoning model's thinking is output it is paid for, as OpenAI counts it in `completion_tokens`.
        let thinking = final.reasoning
        let countedOutput = generated ? await count(logger: logger) {
            try await $0.textTokens(newText) + (thinking.isEmpty ? 0 : try await $0.textTokens(thinking))
        } : nil
        let (thisTurn, mismatch) = UsageAccounting.resolve(
            reported: final.usage, countedInput: generated ? countedInput : nil, countedOutput: countedOutput)
        if mismatch.input { metrics.usageCountMismatch(model: model, kind: "input") }
        if mismatch.output { metrics.usageCountMismatch(model: model, kind: "output") }
        let usage = Self.combine(plan.prior?.usage, thisTurn)
        let charged = generated ? thisTurn : nil
        let price = catalog.price(for: model)
        let cost = price.map { $0.cost(of: charged ?? .unknown) }
        // An answer from the response cache repeats a call's usage: what that call would cost now is what it saved.
        let saved = fromResponseCache ? thisTurn.map {
            CacheSavings(tokens: ($0.inputTokens ?? 0) + ($0.outputTokens ?? 0), cost: price?.cost(of: $0) ?? .zero)
        } : nil
        let ttft = final.firstTokenAt.map { $0 - start }
        let duration = clock.now - start
        let ttftMs = ttft.map(Self.milliseconds)
        let durationMs = Self.milliseconds(duration)
        // Function calls are output as text is: an answer cut off after some counts as partial.
        let hasText = !content.isEmpty || !final.toolCalls.isEmpty || !final.reasoning.isEmpty

        // How the answer ended: `done` with this finish reason, or an error.
        let status: MessageStatus
        var failure: TurnEvent.Failure?
        if completed {
            status = .complete
        } else if let reason = control.stopReason {
            switch reason {
            case .userCancelled:
                status = .cancelled
            case .clientDisconnected:
                status = hasText ? .partial : .error
                failure = .init(code: "client_disconnected",
                                message: "The browser disconnected before the answer was complete.",
                                retryable: true, partial: hasText)
            case .otherAnswerFailed:
                status = hasText ? .partial : .error
                failure = .init(code: "other_answer_failed",
                                message: "Another answer to the same call failed, so Sluice stopped this one too. Send the call again.",
                                retryable: true, partial: hasText)
            case .idleTimeout:
                failure = ErrorMapping.timeout(firstToken: !hasText, partial: hasText)
                status = hasText ? .partial : .error
            case .totalTimeout:
                failure = ErrorMapping.totalTimeout(settings.totalTimeout(for: model), partial: hasText)
                status = hasText ? .partial : .error
            }
        } else {
            failure = final.failure
                ?? error.map { ErrorMapping.failure(for: $0, partial: hasText, retries: retries) }
                ?? .init(code: "interrupted",
                         message: hasText
                            ? "Sluice was stopped (or restarted) while writing this answer. The text so far is saved: continue it, or try again in a moment."
                            : "Sluice was stopped (or restarted) before this answer began. Try again in a moment.",
                         retryable: true, partial: hasText)
            status = hasText ? .partial : .error
        }
        // An answer with function calls is not only text: the cache keeps text answers.
        if completed, !servedFromCache, plan.prior == nil, final.toolCalls.isEmpty, plan.request.tools == nil, plan.discard == nil {
            answerCache?.store(content, for: plan.request)
        }

        let storedThinking = final.storedThinking(at: clock.now)
        var outcome = AssistantOutcome(
            content: content, status: status, usage: usage, ttftMs: ttftMs, durationMs: durationMs,
            finishReason: completed ? finishReason : (status == .cancelled ? "cancelled" : nil),
            error: failure?.message, errorCode: failure?.code, tokenEnds: final.tokenEnds,
            model: model == plan.request.model ? nil : model, toolCalls: final.toolCalls,
            reasoning: storedThinking.reasoning, reasoningMs: storedThinking.milliseconds)
        outcome.signedThinking = final.signedThinking
        let masked = final.maskedPersonalData.isEmpty
            ? nil : Dictionary(uniqueKeysWithValues: final.maskedPersonalData.map { ($0.key.rawValue, $0.value) })
        outcome.personalDataMasked = masked
        progressWriter.forget(messageID: plan.assistantMessageID)
        // The hold is settled and the answer stored in one commit.
        let (budget, conversationTokens) = await settle(
            plan, charged: charged, cost: cost, saved: saved, finishing: outcome, sources: final.sources, logger: logger)
        if let cost, charged != nil { metrics.charged(model: model, cost: cost) }

        await keepInCache(plan, answer: final, charged: charged, logger: logger)
        await plan.discard?()

        let finalEvent: TurnEvent
        if let failure {
            finalEvent = .error(failure)
        } else {
            var done = TurnEvent.Done(
                usage: WireUsage(usage), ttftMs: ttftMs, durationMs: durationMs,
                finishReason: completed ? finishReason : "cancelled", model: model,
                costUSD: cost?.decimalString, budget: budget, conversationTokens: conversationTokens,
                cached: servedFromCache && !fromResponseCache ? true : nil,
                cacheHit: fromResponseCache ? true : nil)
            done.sources = final.sources.isEmpty ? nil : final.sources
            done.personalDataMasked = masked
            finalEvent = .done(done)
        }
        var metadata: Logger.Metadata = [
            "model": "\(model)", "status": "\(status.rawValue)",
            "duration_ms": "\(durationMs)", "ttft_ms": "\(ttftMs.map(String.init) ?? "-")",
        ]
        if let failure { metadata["error_code"] = "\(failure.code)" }
        if let error { metadata["upstream_error"] = "\(error)" }
        if retries > 0 { metadata["retries"] = "\(retries)" }
        if !final.maskedPersonalData.isEmpty {
            metadata["personal_data_masked"] = "\(final.maskedPersonalData.sorted { $0.key < $1.key }.map { "\($0.key.rawValue)=\($0.value)" }.joined(separator: ","))"
        }
        metrics.turnFinished(model: model, status: status, ttft: ttft, duration: duration, usage: usage)
        if let failure { metrics.turnFailed(code: failure.code) }
        if case .http(let status, _, _)? = error as? ProviderError, status == 401 || status == 403 {
            logger.critical("the upstream refused Sluice's credentials: fix the upstream key", metadata: metadata)
        } else {
            logger.info("turn finished", metadata: metadata)
        }
        emit(finalEvent)
    }
}
