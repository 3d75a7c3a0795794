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
    /// Stores how each answer ended, and keeps an end the database did not take to write again.
    let unsavedEnds: UnsavedAnswerEnds
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
    /// The response cache gateway calls may use (`ResponseCaching.swift`); `nil` when it is off.
    var responseCache: ResponseCacheSettings? = nil

    /// Credential shapes and exact secrets that must not reach a client in an answer.
    struct Redaction: Sendable {
        var credentials: [CredentialPattern] = []
        var secrets: [String] = []
    }

    /// What the generation has produced so far, shared by its child tasks.
    struct Progress {
        var content = ""
        /// A reasoning model's thinking shown so far (redacted as the answer is).
        var reasoning = ""
        var reasoningRedactor: OutputRedactor?
        /// What was redacted from the thinking, for the turn's log line.
        var reasoningRedactions: [String] = []
        /// When the current stretch of thinking began, and how long the finished ones took.
        var thinkingSince: ContinuousClock.Instant?
        var thoughtFor = Duration.zero
        /// A continued answer's earlier thinking and its duration, stored before this call's.
        var priorReasoning: String?
        var priorReasoningMs = 0
        /// This call's thinking as Anthropic signed it, block by block, while none of it was shown redacted.
        var signedThinking: [SignedThinking] = []
        /// The function calls the answer makes, assembled from their pieces.
        var toolCalls: [ToolCall] = []
        var tokenEnds: [Int] = []
        var seq = 0
        var usage: Usage?
        var finishReason: String?
        var error: (any Error)?
        /// A failure decided by the retry policy (e.g. a `Retry-After` longer than Sluice waits).
        var failure: TurnEvent.Failure?
        var retries = 0
        var completed = false
        /// Whether the answer is a response-cache hit (no upstream was asked).
        var fromResponseCache = false
        /// The current attempt's start; the first-token timeout counts from here (pushed past retry waits, and
        /// to the moment a call that waited in the model's queue goes upstream).
        var attemptStartedAt: ContinuousClock.Instant
        /// Whether the current attempt waits in the model's queue: no upstream is asked yet, so no first-token
        /// deadline runs (the total timeout still does).
        var waitingForSlot = false
        var firstTokenAt: ContinuousClock.Instant?
        var lastActivity: ContinuousClock.Instant
        var lastFlush: ContinuousClock.Instant
        /// Holds back and redacts what must not be shown; `nil` when there is nothing to redact.
        var redactor: OutputRedactor?
        /// The same for each function call's arguments (by call index): a model can leak through them as well.
        var toolRedactors: [Int: OutputRedactor] = [:]
        /// A fresh redactor, copied for each call; `nil` when there is nothing to redact.
        var freshRedactor: OutputRedactor?
        /// Lines the upstream's log probabilities up with the text shown; `nil` unless the caller asked for them.
        var logprobs: LogprobAligner?
        /// The model being asked: the requested one until a fallback takes over.
        var model: String
        /// The excerpts of the project's files that the model being asked was sent (`Plan.sources`, then a
        /// fallback's own).
        var sources: [ExcerptSource]
        /// The personal details the model being asked got as placeholders, by kind (`PersonalDataMaskingProvider`).
        var maskedPersonalData: [PersonalDataKind: Int] = [:]
    }

    /// Shares `Progress` between the child tasks of one generation.
    final class ProgressBox: Sendable {
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
        let start = ContinuousClock.now
        let progress = progress(of: plan, start: start)
        let countedInput = await answer(plan, progress: progress, control: control, start: start, logger: logger, emit: emit)
        await finish(plan, progress: progress, control: control, start: start, countedInput: countedInput, logger: logger, emit: emit)
    }

    /// The answer's progress before its first piece: the redactor, the log probabilities' aligner, the text and
    /// thinking of the answer this turn continues. Synchronous and out of line, as everything here that is not kept
    /// across a wait: the generation's task keeps its frames while the answer streams.
    @inline(never)
    private func progress(of plan: Plan, start: ContinuousClock.Instant) -> ProgressBox {
        var initial = Progress(attemptStartedAt: start, lastActivity: start, lastFlush: start, model: plan.request.model, sources: plan.sources)
        let systemPrompt = plan.systemPrompt
        if systemPrompt != nil || !redaction.credentials.isEmpty || !redaction.secrets.isEmpty {
            initial.redactor = OutputRedactor(
                systemPrompt: systemPrompt, credentials: redaction.credentials, secrets: redaction.secrets)
            initial.freshRedactor = initial.redactor
        }
        if plan.request.sampling.logprobs != nil { initial.logprobs = LogprobAligner() }
        if let prior = plan.prior {
            initial.content = prior.content
            initial.tokenEnds = prior.tokenEnds
            initial.seq = prior.tokenEnds.count
            initial.priorReasoning = prior.reasoning
            initial.priorReasoningMs = prior.reasoningMs ?? 0
        }
        return ProgressBox(initial)
    }

    /// The answer from the response cache, or from the upstream under the watchdog and the stop button; returns the
    /// request's input tokens as Sluice counted them (`nil` when it could not).
    @inline(never)
    private func answer(
        _ plan: Plan, progress: ProgressBox, control: TurnControl, start: ContinuousClock.Instant, logger: Logger,
        emit: @escaping @Sendable (TurnEvent) -> Void
    ) async -> Int? {
        if plan.cache != nil, await replayedFromCache(plan, progress: progress, logger: logger, emit: emit) {
            return plan.countedInputTokens
        }
        let countedInput = await countedInput(plan, logger: logger)
        await generate(plan, progress: progress, control: control, start: start, logger: logger, emit: emit)
        return countedInput
    }

    /// Whether the response cache had the answer (then replayed as if it streamed).
    @inline(never)
    private func replayedFromCache(
        _ plan: Plan, progress: ProgressBox, logger: Logger, emit: @escaping @Sendable (TurnEvent) -> Void
    ) async -> Bool {
        guard let hit = await cachedAnswer(plan, logger: logger) else { return false }
        replay(hit, plan: plan, progress: progress, emit: emit)
        return true
    }

    /// The request's input tokens: counted before the hold, or counted now.
    @inline(never)
    private func countedInput(_ plan: Plan, logger: Logger) async -> Int? {
        if let counted = plan.countedInputTokens { return counted }
        return await count(logger: logger) { try await $0.requestTokens(plan.request) }
    }

    /// The answer from the upstream, under the watchdog and the stop button: the frames kept while it streams.
    @inline(never)
    private func generate(
        _ plan: Plan, progress: ProgressBox, control: TurnControl, start: ContinuousClock.Instant, logger: Logger,
        emit: @escaping @Sendable (TurnEvent) -> Void
    ) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await watchdog(progress: progress, control: control, start: start) }
            group.addTask { await control.waitForStop() }
            // Started in place, up to its first wait (the upstream's answer): the way to the upstream call takes no
            // trip through the event loop's queue, behind whatever the other turns on it have queued.
            group.addImmediateTask { await consume(plan, progress: progress, logger: logger, emit: emit) }
            _ = await group.next()
            group.cancelAll()
        }
    }

    private func consume(
        _ plan: Plan, progress: ProgressBox, logger: Logger, emit: @escaping @Sendable (TurnEvent) -> Void
    ) async {
        // A model that does not see images is no fallback for a call that shows some.
        let showsImages = plan.request.messages.contains { !$0.images.isEmpty }
        var attempts = Attempts(
            request: plan.request,
            untried: fallbacks(plan.request.model).filter { !showsImages || catalog.acceptsImages($0) != false })
        while true {
            do {
                try await attempt(attempts.request, plan: plan, progress: progress, emit: emit)
                if !Task.isCancelled { progress.withLock { $0.completed = true } }
                return
            } catch is CancellationError {
                return
            } catch {
                guard await recover(from: error, attempts: &attempts, plan: plan, progress: progress, logger: logger, emit: emit)
                else { return }
            }
        }
    }

    /// The request the next attempt makes, how long the retries have waited, and the fallbacks not yet tried.
    private struct Attempts {
        var request: ChatRequest
        var waited = Duration.zero
        var untried: [String]
    }

    /// After a failed attempt: waits and returns `true` to try again (the same model, or the next fallback), or records
    /// the failure and returns `false`. Out of line: its frame is needed only after a failure, and `consume`'s is kept
    /// by its task while the answer streams.
    @inline(never)
    private func recover(
        from error: any Error, attempts: inout Attempts, plan: Plan, progress: ProgressBox, logger: Logger,
        emit: @escaping @Sendable (TurnEvent) -> Void
    ) async -> Bool {
        let clock = ContinuousClock()
        if let providerError = error as? ProviderError { metrics.upstreamFailed(providerError) }
        let (hasText, retries) = progress.withLock { ($0.firstTokenAt != nil, $0.retries) }
        // Once text is on the client's screen a silent retry would duplicate or contradict it.
        let decision: RetryPolicy.Decision =
            hasText ? .giveUp(nil) : settings.retryPolicy.decide(after: error, retriesSoFar: retries, waitedSoFar: attempts.waited)
        guard case .retry(let wait, let reason) = decision else {
            // Nothing shown yet: another model may answer instead.
            if !hasText, !attempts.untried.isEmpty {
                let next = attempts.untried.removeFirst()
                let from = attempts.request.model
                let rebuilt = await plan.rebuild?(next)
                var fallback = rebuilt?.request ?? attempts.request
                fallback.model = next
                attempts.request = fallback
                attempts.waited = .zero
                progress.withLock {
                    $0.retries = 0
                    $0.model = next
                    if let rebuilt { $0.sources = rebuilt.sources }
                    $0.attemptStartedAt = clock.now
                }
                metrics.fellBack(from: from, to: next)
                logger.warning("falling back to another model", metadata: [
                    "from": "\(from)", "to": "\(next)", "error": "\(error)",
                ])
                emit(.status(.init(state: "fallback", from: from, to: next)))
                return true
            }
            progress.withLock { state in
                state.error = error
                if case .giveUp(let failure?) = decision { state.failure = failure }
            }
            return false
        }
        attempts.waited += wait
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
        do { try await sleeper.sleep(for: wait) } catch { return false }
        return true
    }

    /// One attempt under the model's first-token deadline: a model that sends no text in time is abandoned
    /// (its request cancelled) with `firstTokenTimeout`, so the fallback chain can take over. The attempt's
    /// `FirstTokenWatch` lets the circuit breaker count that as the upstream's failure, not as a cancellation.
    private func attempt(
        _ request: ChatRequest, plan: Plan, progress: ProgressBox, emit: @escaping @Sendable (TurnEvent) -> Void
    ) async throws {
        let watch = FirstTokenWatch()
        // A wait in the queue belongs to the attempt that queued (one that failed there leaves none behind).
        progress.withLock { $0.waitingForSlot = false }
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask { try await firstTokenDeadline(progress: progress, watch: watch) }
            // In place up to its first wait, as `consume` is.
            group.addImmediateTask {
                try await FirstTokenWatch.$current.withValue(watch) {
                    try await stream(request, plan: plan, progress: progress, emit: emit)
                }
                return true
            }
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
    /// The deadline is re-read after each wake, because a queue wait moves the attempt's start; while the call
    /// waits in the queue it cannot pass (the start only moves later, so a wake is never late).
    private func firstTokenDeadline(progress: ProgressBox, watch: FirstTokenWatch) async throws -> Bool {
        while true {
            let (arrived, waiting, deadline, limit) = progress.withLock { state in
                let limit = settings.firstTokenTimeout(for: state.model)
                return (state.firstTokenAt != nil, state.waitingForSlot, state.attemptStartedAt + limit, limit)
            }
            if arrived { return false }
            if waiting {
                try await Task.sleep(until: max(deadline, .now + limit), clock: .continuous)
                continue
            }
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
        // A turn stopped before its call (a shutdown that began as it started) asks no upstream for anything.
        try Task.checkCancellation()
        plan.timings?.mark(.upstreamCalled)
        let tally = PersonalDataTally()
        let events = PersonalDataTally.$current.withValue(tally) { provider.streamChat(request) }
        let masked = tally.counts
        progress.withLock { $0.maskedPersonalData = masked }
        for try await event in events {
            take(event, at: clock.now, plan: plan, progress: progress, emit: emit)
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
