import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SluiceCore
import SluiceGuard

/// `POST /v1/completions`: OpenAI's text completions, as LiteLLM proxies them — code editors' autocompletion (a prompt
/// and a `suffix`, fill-in-the-middle) and evaluation harnesses (`echo`, `logprobs`) — with the user's (and key's)
/// model access, the prompt guard, the budget hold before anything goes upstream, rate limits, retries with
/// `Retry-After` honoured, the model's circuit breaker and queue, the first-token and idle timeouts, and the usage and
/// cost in the ledger. The upstream's answer is passed on as it came: event by event, or whole.
///
/// Like an embeddings call it is not a conversation: nothing of it is stored but its ledger row (an editor's
/// autocompletion makes hundreds of calls an hour; as conversations they would bury the user's chats).
struct TextCompletionsRoute {
    let services: PassThroughServices
    let promptGuard: PromptGuard?
    /// The models to try, in order, when a model fails before its first piece (`ModelRouter.fallbackChain`).
    var fallbacks: @Sendable (String) -> [String] = { _ in [] }
    /// The response cache (`--response-cache-seconds`): an identical call gets the first one's answer.
    var responseCache: ResponseCacheSettings? = nil

    func register(on v1: RouterGroup<SluiceRequestContext>) {
        v1.post("completions", use: complete)
    }

    @Sendable func complete(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let body = try await GatewayRoutes.body(of: request)
        var call = try TextCompletionCall.parse(body.readableBytesView)
        call.model = services.gateway.model(named: call.model, for: user)
        try ModelAccess.check(user, model: call.model)
        try screen(call, userID: user.id, logger: context.logger)
        // A full queue for the model is a 503 before anything is held, as for a chat call.
        try services.gateway.launcher.checkCapacity(model: call.model)
        let tags = try CallTags.of(request)
        let started = ContinuousClock.now
        let (counted, longest) = try await count(call)
        let perChoice = try fit(call, longestPrompt: longest)
        let held = try await services.hold(
            inputTokens: counted, outputTokens: max(1, perChoice) * call.choices, model: call.model, user: user,
            endUser: call.endUser, apiKey: context.apiKey, tags: tags, wording: .prompt)
        // The hold may grant less output than asked for: each answer gets its share.
        let granted = perChoice == 0 ? 0 : min(perChoice, max(1, (held.grantedOutput ?? perChoice * call.choices) / call.choices))
        // Charged at the price of the model that answers (a fallback's, when the requested one failed).
        let charge = { [services] (model: String) in
            Charge(
                services: services, hold: held.hold, price: services.catalog.price(for: model), counted: counted,
                choices: call.choices, model: model, started: started)
        }
        let scenario = services.scenarioHeaders(request)
        let upstream = { (model: String) in
            TextCompletionRequest(
                model: model, body: call.body(model: model, maxTokens: granted), stream: call.stream, extraHeaders: scenario)
        }
        var headers = held.headers
        let metrics = services.metrics
        let cache = responseCache.map { TextCompletionCache(settings: $0, metrics: metrics) }
        let lookup = cache?.lookup(call, request: request, userID: user.id, extraHeaders: scenario)
        if let lookup, lookup.use.read { headers[ResponseCacheUse.header] = "miss" }
        if let cache, let lookup, let hit = await cache.answer(for: lookup, model: call.model, logger: context.logger) {
            // What the first call used is what this one saved: charged nothing, counted as a hit.
            let (input, output) = (hit.inputTokens ?? 0, hit.outputTokens ?? 0)
            let price = services.catalog.price(for: call.model)
            await services.settle(
                held.hold, inputTokens: 0, outputTokens: 0, cost: .zero,
                saved: CacheSavings(tokens: input + output, cost: price?.cost(inputTokens: input, outputTokens: output) ?? .zero))
            metrics.textCompletionFinished(model: call.model, outcome: "complete", duration: .now - started, usage: nil)
            headers[ResponseCacheUse.header] = "hit"
            let cost: USDAmount? = price.map { _ in .zero }
            GatewayRoutes.tell(cost, in: &headers)
            headers[.contentType] = call.stream ? "text/event-stream" : "application/json"
            return Response(
                status: .ok, headers: headers,
                body: TextCompletionCache.replay(hit, stream: call.stream, includeUsage: call.includeUsage, cost: cost))
        }
        // Only a whole answer of the model asked for is kept.
        let keep: (@Sendable (_ content: String, _ model: String, _ finish: String?, _ usage: (input: Int, output: Int)) async -> Void)? =
            if let cache, let lookup {
                { [requested = call.model] content, model, finish, usage in
                    guard model == requested else { return }
                    await cache.keep(content, for: lookup, model: model, finishReason: finish, usage: usage, logger: context.logger)
                }
            } else { nil }

        let relay: UpstreamRelay
        let first: TextCompletionChunk
        let model: String
        do {
            (relay, first, model) = try await open(upstream, model: call.model, logger: context.logger)
        } catch {
            await charge(call.model).settle(usage: nil, answers: nil, outcome: error is CancellationError ? "cancelled" : "error")
            throw error
        }
        guard call.stream else {
            relay.cancel()
            var cost: USDAmount?
            if let used = await charge(model).settle(usage: first.usage, answers: AnswerTexts(first), outcome: "complete") {
                await keep?(String(decoding: first.data, as: UTF8.self), model, first.finishReason, (used.input, used.output))
                GatewayRoutes.tell(used.cost, in: &headers)
                cost = used.cost
            }
            headers[.contentType] = "application/json"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: UsageCostField.adding(cost, to: first.data))))
        }
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        let includeUsage = call.includeUsage
        let answering = charge(model)
        let keepStream = keep.map { keep in
            { @Sendable (content: String, finish: String?, usage: (input: Int, output: Int)) in await keep(content, model, finish, usage) }
        }
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            try await Self.pass(first: first, rest: relay, includeUsage: includeUsage, charge: answering, keep: keepStream, to: &writer)
        })
    }

    /// Writes the stream's events as the upstream wrote them (the usage chunk only for a caller that asked for it, last,
    /// with what the call cost added once it is settled), settles the hold for what was generated, and ends with
    /// `[DONE]` — or, when the upstream failed mid-way, with OpenAI's error event. A client that leaves gives up the
    /// call, charged for what was generated by then.
    private static func pass(
        first: TextCompletionChunk, rest relay: UpstreamRelay, includeUsage: Bool, charge: Charge,
        keep: (@Sendable (String, String?, (input: Int, output: Int)) async -> Void)?, to writer: inout any ResponseBodyWriter
    ) async throws {
        var usage = first.usage
        var answers = AnswerTexts(first)
        var finish = first.finishReason
        // Every event as it came, for the response cache.
        var kept: [String] = keep == nil ? [] : [String(decoding: first.data, as: UTF8.self)]
        var failure: (any Error)?
        // The chunk that says the usage waits for the settle, which adds the cost to it: OpenAI's usage-only chunk
        // (for a caller that asked for it), or llama-server's last chunk, which has its usage beside the finish
        // reason and no text, asked for or not. Should any chunk follow it, it goes on as it came.
        var usageChunk: [UInt8]?
        func pass(_ chunk: TextCompletionChunk) async throws {
            if let held = usageChunk {
                usageChunk = nil
                try await writer.write(event(held))
            }
            if chunk.usageOnly {
                if includeUsage { usageChunk = chunk.data }
            } else if chunk.usage != nil, chunk.text.isEmpty {
                usageChunk = chunk.data
            } else {
                try await writer.write(event(chunk.data))
            }
        }
        do {
            try await pass(first)
            var events = relay.events.makeAsyncIterator()
            while true {
                let next: ProviderEvent?
                do { next = try await events.next() } catch {
                    failure = error
                    break
                }
                guard let next else { break }
                guard case .textCompletion(let chunk) = next else { continue }
                usage = chunk.usage ?? usage
                answers.add(chunk)
                finish = chunk.finishReason ?? finish
                if keep != nil { kept.append(String(decoding: chunk.data, as: UTF8.self)) }
                try await pass(chunk)
            }
        } catch {
            relay.cancel()
            await charge.settle(usage: usage, answers: answers, outcome: "cancelled")
            throw error
        }
        // A cancelled body task (the client gone) ends the events early without an error.
        let outcome = failure != nil ? "error" : Task.isCancelled ? "cancelled" : "complete"
        let used = await charge.settle(usage: usage, answers: answers, outcome: outcome)
        if let used, outcome == "complete", let keep {
            await keep(kept.joined(separator: "\n"), finish, (used.input, used.output))
        }
        if let usageChunk { try await writer.write(event(UsageCostField.adding(used?.cost, to: usageChunk))) }
        if let failure {
            try await writer.write(event(Array(streamError(failure, afterText: !answers.isEmpty).utf8)))
        } else {
            try await writer.write(event(Array("[DONE]".utf8)))
        }
        try await writer.finish(nil)
    }

    private static func event(_ data: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(data.count + 8)
        buffer.writeString("data: ")
        buffer.writeBytes(data)
        buffer.writeString("\n\n")
        return buffer
    }

    /// OpenAI's error event for a failure after the stream began, saying what the caller has.
    static func streamError(_ error: any Error, afterText: Bool) -> String {
        var failure: TurnEvent.Failure
        if let silent = error as? UpstreamRelay.Silent {
            failure = .init(
                code: "upstream_timeout",
                message: "The model sent nothing for \(Self.seconds(silent.after)) mid-completion, so Sluice ended the call. Try again.",
                retryable: true, partial: false)
        } else {
            failure = ErrorMapping.failure(for: error, partial: false)
        }
        if afterText { failure.message += " The text before this error is all the model wrote, and all that was charged." }
        return OpenAIWire.streamError(failure)
    }

    /// `30 s`, or `0.3 s` for a wait under a second.
    static func seconds(_ duration: Duration) -> String {
        let milliseconds = Int(duration.components.seconds) * 1000 + Int(duration.components.attoseconds / 1_000_000_000_000_000)
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(Double(milliseconds / 100) / 10) s"
    }

    /// Opens the call and waits for its first piece; failures before it are retried as a chat turn's upstream call
    /// is (429 and 5xx with back-off, `Retry-After` honoured), then handed to the model's fallbacks in turn, the last
    /// failure answered as the HTTP error an OpenAI client expects. Returns the model that answered.
    private func open(
        _ upstream: (String) -> TextCompletionRequest, model requested: String, logger: Logger
    ) async throws -> (UpstreamRelay, TextCompletionChunk, String) {
        var request = upstream(requested)
        var untried = fallbacks(requested)
        let retries = services.retries
        while true {
            do {
                return try await retries.run(refused: Self.refused) { try await first(of: request) }
            } catch {
                // Nothing was passed on yet: another model may answer instead, as for a chat turn.
                // Nor when Sluice is stopping: its grace is over for every model.
                guard !untried.isEmpty, !(error is CancellationError), !Task.isCancelled,
                    (error as? APIError)?.code != ShutdownDrain.GraceOver.code
                else { throw error }
                let next = untried.removeFirst()
                services.metrics.fellBack(from: request.model, to: next)
                logger.warning("falling back to another model", metadata: [
                    "from": "\(request.model)", "to": "\(next)", "error": "\(error)",
                ])
                request = upstream(next)
            }
        }
    }

    /// One attempt: the call opened and its first piece read (queue news skipped); a failure gives it up.
    private func first(of request: TextCompletionRequest) async throws -> (UpstreamRelay, TextCompletionChunk, String) {
        // A whole answer comes at once: its wait is the call's total time, not a first token's.
        let settings = services.settings
        let firstEvent = request.stream ? settings.firstTokenTimeout(for: request.model) : settings.totalTimeout(for: request.model)
        let relay = UpstreamRelay(
            services.provider.streamText(request), firstEvent: firstEvent, idle: settings.idleTimeout(for: request.model),
            drain: services.drain)
        do {
            for try await event in relay.events {
                if case .textCompletion(let chunk) = event { return (relay, chunk, request.model) }
            }
            throw ProviderError.connection("the upstream ended the call without an answer")
        } catch {
            relay.cancel()
            throw error
        }
    }

    /// The upstream would not complete this (a prompt too long for the model, an option it does not know, a server
    /// without the API such as Anthropic's): a 400 with its reason and what to do.
    static func refused(status: Int, upstreamMessage: String) -> APIError {
        let detail = upstreamMessage.isEmpty ? " (HTTP \(status))" : " (\(upstreamMessage.prefix(300)))"
        return APIError(
            .badRequest, code: "upstream_rejected",
            message: "The model service could not complete this prompt\(detail). Shorten the prompt, drop the option it names, or use /v1/chat/completions with a chat model.")
    }

    /// The prompt guard's rules over each prompt and the suffix (without the length limit: a file's worth of code is
    /// an ordinary prompt here). Token ids are not read. A rejected call is counted and logged without its text.
    private func screen(_ call: TextCompletionCall, userID: String, logger: Logger) throws {
        guard let promptGuard, case .texts(let prompts) = call.prompts else { return }
        for text in prompts + [call.suffix].compactMap({ $0 }) {
            let verdict = promptGuard.checkAttachment(text)
            guard case .injection(_, let category, let description, _)? = verdict.rejection, let rule = verdict.ruleID else {
                continue
            }
            services.metrics.promptRejected(rule: rule, category: category)
            logger.notice("the prompt guard rejected a text completion", metadata: [
                "user_id": "\(userID)", "rule": "\(rule)", "category": "\(category)",
                "prompt_sha256": "\(PromptGuard.fingerprint(text))", "score": "\(verdict.score)",
            ])
            var error = APIError(
                .unprocessableContent, code: "prompt_rejected",
                message: "This prompt was not sent to the model: it \(description), which Sluice blocks to keep the models it serves safe. Nothing was charged. If this is a mistake, rephrase that passage (for example, quote it).")
            error.details = "\"rule\":\(JSONText.quote(rule)),\"category\":\(JSONText.quote(category))"
            throw error
        }
    }

    /// The input tokens (each prompt with the suffix, which goes with every prompt) and the longest prompt's, counted
    /// with the model family's tokenizer (token ids are their own count); `nil` where only the upstream can count.
    private func count(_ call: TextCompletionCall) async throws -> (total: Int?, longest: Int?) {
        var texts: [String] = []
        if case .texts(let prompts) = call.prompts { texts = prompts }
        let suffix = call.suffix.flatMap { $0.isEmpty ? nil : $0 }
        if let suffix { texts.append(suffix) }
        let counts: [Int]? = if let counter = services.counter, !texts.isEmpty { try await TextTokenCount.each(texts, with: counter) } else { nil }
        let suffixTokens = suffix == nil ? 0 : counts?.last
        let promptTokens: [Int]? =
            switch call.prompts {
            case .tokens(let ids): ids.map(\.count)
            case .texts(let prompts): counts.map { Array($0.prefix(prompts.count)) }
            }
        guard let promptTokens, let suffixTokens else { return (nil, nil) }
        let each = promptTokens.map { $0 + suffixTokens }
        return (each.reduce(0, +), each.max())
    }

    /// The output each answer may have: what was asked for, within the model's context window (from the price list)
    /// beside the longest prompt; a prompt that fills the window is a 400.
    private func fit(_ call: TextCompletionCall, longestPrompt: Int?) throws -> Int {
        guard let window = services.catalog.contextWindow(for: call.model), let longest = longestPrompt else { return call.maxTokens }
        guard longest < window else {
            throw APIError.invalid(
                "The prompt has \(longest) tokens, and \(call.model)'s context window holds \(window) with the completion: shorten the prompt.")
        }
        return min(call.maxTokens, window - longest)
    }
}

extension TextCompletionsRoute {
    /// Whether an upstream's output count for `choices` answers is about one answer's: `choices` times it is well
    /// below Sluice's count of all their text (a count of all of them is about that count, within what two
    /// tokenizers differ by; one answer's, times `choices`, about equal to it).
    static func countsOneAnswer(reported: Int, choices: Int, written: Int) -> Bool {
        Double(reported * choices) < 1.4 * Double(written)
    }
}

/// Settles one text completion's hold for what the upstream used — its usage, or Sluice's count of the prompt and of
/// the text that came — and counts the call in the metrics. A call that produced nothing is released, charged
/// nothing.
private struct Charge: Sendable {
    let services: PassThroughServices
    let hold: BudgetHold?
    /// `nil`: the model has no price, and its calls are charged nothing.
    let price: ModelPrice?
    let counted: Int?
    /// Answers the call asked for (prompts × `n`).
    let choices: Int
    let model: String
    let started: ContinuousClock.Instant

    /// Returns the input and output tokens charged and what they cost (`nil` without a price), `nil` for a call that
    /// produced nothing.
    @discardableResult
    func settle(usage: Usage?, answers: AnswerTexts?, outcome: String) async -> (input: Int, output: Int, cost: USDAmount?)? {
        let produced = usage != nil || answers?.isEmpty == false
        let input = produced ? usage?.inputTokens ?? counted ?? 0 : 0
        var output = produced ? usage?.outputTokens : 0
        if let counter = services.counter, let answers {
            if output == nil {
                output = try? await answers.tokens(with: counter)
            } else if choices > 1, let reported = output, let written = try? await answers.tokens(with: counter),
                TextCompletionsRoute.countsOneAnswer(reported: reported, choices: choices, written: written)
            {
                // An upstream that writes several answers may count only one's output in its usage (llama-server
                // does): then the charge is Sluice's count of each answer's text (which is the larger).
                output = written
            }
        }
        let cached = usage?.cachedInputTokens ?? 0
        let cost = price?.cost(inputTokens: input, outputTokens: output ?? 0, cachedInputTokens: cached)
        await services.settle(hold, inputTokens: input, outputTokens: output ?? 0, cachedInputTokens: cached, cost: cost ?? .zero)
        services.metrics.textCompletionFinished(
            model: model, outcome: outcome, duration: .now - started, usage: produced ? (input, output ?? 0) : nil)
        if let cost, cost > .zero { services.metrics.charged(model: model, cost: cost) }
        return produced ? (input, output ?? 0, cost) : nil
    }
}
