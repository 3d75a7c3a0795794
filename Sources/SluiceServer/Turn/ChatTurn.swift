import Foundation
import Logging
import SluiceCore
import SluiceGuard
import Synchronization

/// Runs one assistant generation: streams from the provider, emits client events, keeps the store up to date
/// while text arrives, and always writes the final state — whatever ends the turn.
struct ChatTurn: Sendable {
    let store: any ConversationStore
    /// Saves the text of running answers in batches while they stream (every `settings.flushInterval`).
    let progressWriter: ProgressWriter
    let provider: any ChatProvider
    let settings: TurnSettings
    let sleeper: any Sleeper
    let metrics: SluiceMetrics
    let logger: Logger
    /// Counts input and output with the model's tokenizer; `nil` leaves usage to the provider alone.
    var counter: (any PromptCounter)? = nil
    /// Where holds are settled to what a turn really used.
    var budgets: (any BudgetStore)? = nil
    /// What each model costs.
    var catalog = ModelCatalog()
    /// What is redacted from answers besides the conversation's system prompt.
    var redaction = Redaction()
    /// The models to try, in order, when a model fails before its first token (`ModelRouter.fallbackChain`).
    var fallbacks: @Sendable (String) -> [String] = { _ in [] }
    /// Answers to temperature-0 requests, served when every model failed; `nil` turns that off.
    var answerCache: AnswerCache? = nil

    /// Credential shapes and exact secrets that must not reach a client in an answer.
    struct Redaction: Sendable {
        var credentials: [CredentialPattern] = []
        var secrets: [String] = []
    }

    /// What one turn generates and where it is stored.
    struct Plan: Sendable {
        let assistantMessageID: String
        let request: ChatRequest
        /// For a continued answer: the text and token boundaries it already has, and its earlier usage.
        var prior: Prior? = nil
        /// The logger of the request that started the turn, so every line of a turn carries its request id.
        var logger: Logger? = nil
        /// The tokens held for this turn before the call (`TurnBudget`); settled when it ends.
        var hold: BudgetHold? = nil
        /// The request's input tokens as counted before the call (`TurnBudget.Held`); counted by the turn if `nil`.
        var countedInputTokens: Int? = nil
        /// The conversation, for its running token total in `done`.
        var conversationID: String? = nil
        /// The conversation's system prompt, redacted if the answer quotes it.
        var systemPrompt: String? = nil
        /// The request for a fallback model (its own context window); `nil` sends the same messages to it.
        var rebuild: (@Sendable (String) async -> ChatRequest?)? = nil
        /// Whether `done` carries the budget and the conversation's total afterwards (two reads): the web app
        /// shows them; the OpenAI wire format has no place for them.
        var reportsBudget = true
        /// The thread key of the conversation once it ends with this answer (the gateway's `ThreadKey`), stored
        /// with a complete answer, before `done` reaches the client.
        var threadKey: (@Sendable (_ answer: String) -> String)? = nil
    }

    /// What a continued answer starts from; new tokens are appended and numbered after it.
    struct Prior: Sendable {
        let content: String
        let tokenEnds: [Int]
        let usage: Usage?
    }

    /// What the generation has produced so far, shared by its child tasks.
    private struct Progress {
        var content = ""
        var tokenEnds: [Int] = []
        var seq = 0
        var usage: Usage?
        var finishReason: String?
        var error: (any Error)?
        /// A failure decided by the retry policy (e.g. a `Retry-After` longer than Sluice waits).
        var failure: TurnEvent.Failure?
        var retries = 0
        var completed = false
        /// The current attempt's start; the first-token timeout counts from here (pushed past retry waits).
        var attemptStartedAt: ContinuousClock.Instant
        var firstTokenAt: ContinuousClock.Instant?
        var lastActivity: ContinuousClock.Instant
        var lastFlush: ContinuousClock.Instant
        /// Holds back and redacts what must not be shown; `nil` when there is nothing to redact.
        var redactor: OutputRedactor?
        /// The model being asked: the requested one until a fallback takes over.
        var model: String
    }

    /// Shares `Progress` between the child tasks of one generation.
    private final class ProgressBox: Sendable {
        private let state: Mutex<Progress>
        init(_ initial: sending Progress) { state = Mutex(initial) }
        func withLock<T>(_ body: (inout sending Progress) -> sending T) -> sending T { state.withLock(body) }
    }

    func run(_ plan: Plan, control: TurnControl, emit: @escaping @Sendable (TurnEvent) -> Void) async {
        let logger = {
            var logger = plan.logger ?? self.logger
            logger[metadataKey: "message_id"] = "\(plan.assistantMessageID)"
            return logger
        }()
        let clock = ContinuousClock()
        let start = clock.now
        var initial = Progress(attemptStartedAt: start, lastActivity: start, lastFlush: start, model: plan.request.model)
        let systemPrompt = plan.systemPrompt
        if systemPrompt != nil || !redaction.credentials.isEmpty || !redaction.secrets.isEmpty {
            initial.redactor = OutputRedactor(
                systemPrompt: systemPrompt, credentials: redaction.credentials, secrets: redaction.secrets)
        }
        if let prior = plan.prior {
            initial.content = prior.content
            initial.tokenEnds = prior.tokenEnds
            initial.seq = prior.tokenEnds.count
        }
        let progress = ProgressBox(initial)
        var countedInput = plan.countedInputTokens
        if countedInput == nil { countedInput = await count(logger: logger) { try await $0.promptTokens(plan.request.messages) } }

        await withTaskGroup(of: Void.self) { group in
            group.addTask { await consume(plan, progress: progress, logger: logger, emit: emit) }
            group.addTask { await watchdog(progress: progress, control: control, start: start) }
            group.addTask { await control.waitForStop() }
            _ = await group.next()
            group.cancelAll()
        }
        await finish(plan, progress: progress, control: control, start: start, countedInput: countedInput, logger: logger, emit: emit)
    }

    /// Everything after the answer's stream: the redactor's last text, the cached answer when every model failed, the
    /// usage, the settle-and-store commit and the end event. Out of line: `run`'s frame is what the generation's task
    /// holds while the answer streams (a task keeps its largest frame until it ends), and this part was most of it.
    @inline(never)
    private func finish(
        _ plan: Plan, progress: ProgressBox, control: TurnControl, start: ContinuousClock.Instant, countedInput: Int?,
        logger: Logger, emit: @Sendable (TurnEvent) -> Void
    ) async {
        let clock = ContinuousClock()
        // Text the redactor still held back is part of the answer: it is shown (redacted) before the end event.
        let (tail, redactions) = progress.withLock { state -> ((Int, String)?, [String]) in
            guard var redactor = state.redactor else { return (nil, []) }
            let rest = redactor.finish()
            state.redactor = redactor
            guard !rest.isEmpty else { return (nil, redactor.redactions) }
            state.content += rest
            state.tokenEnds.append(state.content.utf8.count)
            state.seq += 1
            return ((state.seq, rest), redactor.redactions)
        }
        if let (seq, text) = tail { emit(.token(messageID: plan.assistantMessageID, seq: seq, text: text)) }
        if !redactions.isEmpty {
            for kind in redactions { metrics.outputRedacted(kind: kind) }
            logger.warning("redacted the model's answer before it reached the client", metadata: [
                "redactions": "\(redactions.joined(separator: ","))", "model": "\(progress.withLock { $0.model })",
            ])
        }

        // Every model failed before any text: an earlier answer to the identical temperature-0 request beats an
        // error. It is marked cached and costs nothing.
        var servedFromCache = false
        if let answerCache, plan.prior == nil, control.stopReason != .userCancelled,
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
        let generated = !servedFromCache && (completed || !newText.isEmpty)
        let countedOutput = generated ? await count(logger: logger) { try await $0.textTokens(newText) } : nil
        let (thisTurn, mismatch) = UsageAccounting.resolve(
            reported: final.usage, countedInput: generated ? countedInput : nil, countedOutput: countedOutput)
        if mismatch.input { metrics.usageCountMismatch(model: model, kind: "input") }
        if mismatch.output { metrics.usageCountMismatch(model: model, kind: "output") }
        let usage = Self.combine(plan.prior?.usage, thisTurn)
        let charged = generated ? thisTurn : nil
        let cost = catalog.price(for: model).map {
            $0.cost(inputTokens: charged?.inputTokens ?? 0, outputTokens: charged?.outputTokens ?? 0)
        }
        let ttft = final.firstTokenAt.map { $0 - start }
        let duration = clock.now - start
        let ttftMs = ttft.map(Self.milliseconds)
        let durationMs = Self.milliseconds(duration)
        let hasText = !content.isEmpty

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
                ?? .init(code: "interrupted", message: "The answer was interrupted because Sluice is shutting down.",
                         retryable: true, partial: hasText)
            status = hasText ? .partial : .error
        }
        if completed, !servedFromCache, plan.prior == nil { answerCache?.store(content, for: plan.request) }

        let outcome = AssistantOutcome(
            content: content, status: status, usage: usage, ttftMs: ttftMs, durationMs: durationMs,
            finishReason: completed ? finishReason : (status == .cancelled ? "cancelled" : nil),
            error: failure?.message, errorCode: failure?.code, tokenEnds: final.tokenEnds,
            model: model == plan.request.model ? nil : model)
        progressWriter.forget(messageID: plan.assistantMessageID)
        // The hold is settled and the answer stored in one commit.
        let (budget, conversationTokens) = await settle(
            plan, charged: charged, cost: cost, finishing: outcome, logger: logger)
        if let cost, charged != nil { metrics.charged(model: model, cost: cost) }

        let finalEvent: TurnEvent
        if let failure {
            finalEvent = .error(failure)
        } else {
            finalEvent = .done(.init(usage: WireUsage(usage), ttftMs: ttftMs, durationMs: durationMs,
                                     finishReason: completed ? finishReason : "cancelled", model: model,
                                     costUSD: cost?.decimalString, budget: budget, conversationTokens: conversationTokens,
                                     cached: servedFromCache ? true : nil))
        }
        var metadata: Logger.Metadata = [
            "model": "\(model)", "status": "\(status.rawValue)",
            "duration_ms": "\(durationMs)", "ttft_ms": "\(ttftMs.map(String.init) ?? "-")",
        ]
        if let failure { metadata["error_code"] = "\(failure.code)" }
        if let error { metadata["upstream_error"] = "\(error)" }
        if retries > 0 { metadata["retries"] = "\(retries)" }
        metrics.turnFinished(model: model, status: status, ttft: ttft, duration: duration, usage: usage)
        if let failure { metrics.turnFailed(code: failure.code) }
        if case .http(let status, _, _)? = error as? ProviderError, status == 401 || status == 403 {
            logger.critical("the upstream refused Sluice's credentials: fix the upstream key", metadata: metadata)
        } else {
            logger.info("turn finished", metadata: metadata)
        }
        emit(finalEvent)
    }

    private func consume(
        _ plan: Plan, progress: ProgressBox, logger: Logger, emit: @escaping @Sendable (TurnEvent) -> Void
    ) async {
        let clock = ContinuousClock()
        var waited = Duration.zero
        var request = plan.request
        var untried = fallbacks(plan.request.model)
        while true {
            do {
                try await attempt(request, plan: plan, progress: progress, emit: emit)
                if !Task.isCancelled { progress.withLock { $0.completed = true } }
                return
            } catch is CancellationError {
                return
            } catch {
                if let providerError = error as? ProviderError { metrics.upstreamFailed(providerError) }
                let (hasText, retries) = progress.withLock { ($0.firstTokenAt != nil, $0.retries) }
                // Once text is on the client's screen a silent retry would duplicate or contradict it.
                let decision: RetryPolicy.Decision =
                    hasText ? .giveUp(nil) : settings.retryPolicy.decide(after: error, retriesSoFar: retries, waitedSoFar: waited)
                guard case .retry(let wait, let reason) = decision else {
                    // Nothing shown yet: another model may answer instead.
                    if !hasText, !untried.isEmpty {
                        let next = untried.removeFirst()
                        let from = request.model
                        var fallback = await plan.rebuild?(next) ?? request
                        fallback.model = next
                        request = fallback
                        waited = .zero
                        progress.withLock {
                            $0.retries = 0
                            $0.model = next
                            $0.attemptStartedAt = clock.now
                        }
                        metrics.fellBack(from: from, to: next)
                        logger.warning("falling back to another model", metadata: [
                            "from": "\(from)", "to": "\(next)", "error": "\(error)",
                        ])
                        emit(.status(.init(state: "fallback", from: from, to: next)))
                        continue
                    }
                    progress.withLock { state in
                        state.error = error
                        if case .giveUp(let failure?) = decision { state.failure = failure }
                    }
                    return
                }
                waited += wait
                metrics.retried(reason: reason)
                let attempt = retries + 1
                progress.withLock {
                    $0.retries = attempt
                    $0.attemptStartedAt = clock.now + wait
                }
                emit(.status(.init(
                    state: "retrying", attempt: attempt, maxAttempts: settings.retryPolicy.maxRetries,
                    waitMs: Self.milliseconds(wait), reason: reason)))
                logger.notice("retrying the upstream", metadata: [
                    "attempt": "\(attempt)", "reason": "\(reason)",
                    "wait_ms": "\(Self.milliseconds(wait))",
                ])
                do { try await sleeper.sleep(for: wait) } catch { return }
            }
        }
    }

    /// One attempt under the model's first-token deadline: a model that sends no text in time is abandoned
    /// (its request cancelled) with `firstTokenTimeout`, so the fallback chain can take over. The attempt's
    /// `FirstTokenWatch` lets the circuit breaker count that as the upstream's failure, not as a cancellation.
    private func attempt(
        _ request: ChatRequest, plan: Plan, progress: ProgressBox, emit: @escaping @Sendable (TurnEvent) -> Void
    ) async throws {
        let watch = FirstTokenWatch()
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await FirstTokenWatch.$current.withValue(watch) {
                    try await stream(request, plan: plan, progress: progress, emit: emit)
                }
                return true
            }
            group.addTask { try await firstTokenDeadline(progress: progress, watch: watch) }
            // The deadline task ends quietly (false) once text has arrived; the attempt is over when the stream is.
            while let streamEnded = try await group.next() {
                if streamEnded {
                    group.cancelAll()
                    return
                }
            }
        }
    }

    /// Returns `false` once the first token has arrived; throws `firstTokenTimeout` when the deadline passes first.
    /// The deadline is re-read after each wake, because a queue wait moves the attempt's start.
    private func firstTokenDeadline(progress: ProgressBox, watch: FirstTokenWatch) async throws -> Bool {
        while true {
            let (arrived, deadline, limit) = progress.withLock { state in
                let limit = settings.firstTokenTimeout(for: state.model)
                return (state.firstTokenAt != nil, state.attemptStartedAt + limit, limit)
            }
            if arrived { return false }
            if ContinuousClock.now >= deadline {
                watch.markExpired()
                throw ProviderError.firstTokenTimeout(after: limit)
            }
            try await Task.sleep(until: deadline, clock: .continuous)
        }
    }

    /// One attempt: streams from the provider, emitting tokens and recording progress.
    private func stream(
        _ request: ChatRequest, plan: Plan, progress: ProgressBox, emit: @Sendable (TurnEvent) -> Void
    ) async throws {
        let clock = ContinuousClock()
        for try await event in provider.streamChat(request) {
            let now = clock.now
            switch event {
            case .delta(let upstreamText):
                let (released, seq, snapshot) = progress.withLock { state -> (String, Int, ProgressUpdate?) in
                    state.lastActivity = now
                    if state.firstTokenAt == nil { state.firstTokenAt = now }
                    // What the redactor holds back waits for the next piece; nothing is numbered for it yet.
                    let text = state.redactor?.feed(upstreamText) ?? upstreamText
                    guard !text.isEmpty else { return ("", state.seq, nil) }
                    state.content += text
                    state.tokenEnds.append(state.content.utf8.count)
                    state.seq += 1
                    guard now - state.lastFlush >= settings.flushInterval else { return (text, state.seq, nil) }
                    state.lastFlush = now
                    return (text, state.seq, ProgressUpdate(
                        messageID: plan.assistantMessageID, content: state.content, tokenEnds: state.tokenEnds))
                }
                guard !released.isEmpty else { continue }
                emit(.token(messageID: plan.assistantMessageID, seq: seq, text: released))
                if let snapshot { progressWriter.record(snapshot) }
            case .usage(let usage):
                progress.withLock { $0.usage = usage; $0.lastActivity = now }
            case .finish(let reason):
                progress.withLock { $0.finishReason = reason; $0.lastActivity = now }
            case .queued(let position):
                // Waiting for a slot is not the upstream being slow: the first-token clock starts when it moves.
                progress.withLock { $0.attemptStartedAt = now }
                emit(.status(.init(state: "queued", position: position)))
            }
        }
    }

    /// Stops the turn when the upstream falls silent after text has started, or when the whole answer takes
    /// longer than the total timeout (the first-token deadline is part of each attempt instead, so that a silent
    /// model can hand over to its fallback).
    private func watchdog(progress: ProgressBox, control: TurnControl, start: ContinuousClock.Instant) async {
        while !Task.isCancelled {
            // The model being asked sets the limits: a fallback may have its own.
            let (idleDeadline, idle, cap) = progress.withLock { state -> (ContinuousClock.Instant?, Duration, ContinuousClock.Instant) in
                let idle = settings.idleTimeout(for: state.model)
                return (state.firstTokenAt == nil ? nil : state.lastActivity + idle, idle,
                        start + settings.totalTimeout(for: state.model))
            }
            let now = ContinuousClock.now
            if now >= cap {
                control.stop(.totalTimeout)
                return
            }
            if let idleDeadline, now >= idleDeadline {
                control.stop(.idleTimeout)
                return
            }
            // Before the first token, look again one idle period later.
            let wake = min(cap, idleDeadline ?? now + idle)
            do { try await Task.sleep(until: wake, clock: .continuous) } catch { return }
        }
    }
}
