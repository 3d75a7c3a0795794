import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SluiceCore
import Synchronization

/// OpenAI's `n`: several answers to one call. Each answer is a turn of its own, all started at once — its own
/// conversation (a caller that goes on with one of them sends its text back, and that conversation continues), its
/// own hold on the budget, upstream call and charge, as if the caller had made `n` calls (an upstream asked for `n`
/// answers in one call reads the prompt once; Sluice's upstreams are not all able to, and each answer is charged what
/// its own call used). The caller gets them as the choices of one completion, or as one stream whose chunks name
/// their choice's `index`, each answer's chunks in order, with one usage — the answers' sum — and one `[DONE]`.
extension GatewayRoutes {
    func completeMany(_ parsed: ChatCompletionRequest, request: Request, context: SluiceRequestContext) async throws -> Response {
        let turns = try await startAll(parsed.call, request: request, context: context)
        let first = turns[0]
        let envelope = OpenAIWire.Envelope(
            id: "chatcmpl-" + first.started.assistantMessageID, created: Int(first.now.timeIntervalSince1970), model: first.model)
        var headers = first.headers
        // Every answer's message and conversation, in the choices' order.
        for name in ["X-Sluice-Message-Id", "X-Sluice-Conversation-Id"] {
            let field = HTTPField.Name(name)!
            headers[field] = turns.compactMap { $0.headers[field] }.joined(separator: ", ")
        }
        let withLogprobs = parsed.call.sampling.logprobs != nil
        guard parsed.stream else {
            return try await Self.wholeAnswers(turns, envelope: envelope, withLogprobs: withLogprobs, headers: headers)
        }
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        let stopOnDisconnect = launcher.turn.settings.stopOnDisconnect
        let includeUsage = parsed.includeUsage
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            do {
                try await Self.writeAnswers(turns, envelope: envelope, includeUsage: includeUsage, withLogprobs: withLogprobs, to: &writer)
            } catch {
                Self.abandon(turns, stopping: stopOnDisconnect ? .clientDisconnected : nil)
                throw error
            }
        })
    }

    /// Every answer's turn, each waited for to its first token: the first answer's alone, then, once it is under way
    /// (held and its generation started), the others' at once. The first is the call's one request under the rate
    /// limits, the others are held as its extras (`GatewayCall.extraAnswer`): a call the limits or the budget refuse
    /// is refused whole, before any answer starts. When one fails before its first token, the call gets that
    /// failure's status (as a call for one answer would) and the others are stopped at once, whether or not their
    /// first token has come (the failure does not wait for them, nor do they write on).
    private func startAll(_ call: GatewayCall, request: Request, context: SluiceRequestContext) async throws -> [Turn] {
        let running = RunningAnswers()
        return try await withThrowingTaskGroup(of: (Int, Turn).self) { group in
            let (firstUnderWay, underWay) = AsyncStream<Void>.makeStream()
            group.addTask {
                defer { underWay.finish() }
                let launched: @Sendable (LiveGeneration) -> Void = { generation in
                    running.add(generation)
                    underWay.yield()
                }
                return (0, try await start(call, request: request, context: context, launched: launched))
            }
            // Nothing comes when the first answer fails before it is under way: its failure is the call's.
            var firstStarted = false
            for await _ in firstUnderWay {
                firstStarted = true
                break
            }
            for index in 1..<call.answers where firstStarted {
                var extra = call
                extra.extraAnswer = true
                group.addTask { [extra] in (index, try await start(extra, request: request, context: context, launched: running.add)) }
            }
            var turns: [Turn?] = Array(repeating: nil, count: call.answers)
            var failure: (any Error)?
            while let result = await group.nextResult() {
                switch result {
                case .success(let (index, turn)):
                    turns[index] = turn
                    if failure != nil { Self.abandon([turn], stopping: .otherAnswerFailed) }
                case .failure(let error):
                    if failure == nil {
                        failure = error
                        running.stopAll()
                        Self.abandon(turns.compactMap { $0 }, stopping: .otherAnswerFailed)
                    }
                }
            }
            if let failure { throw failure }
            return turns.map { $0! }
        }
    }

    /// The answers are no longer read: each stops reading its events, and (given a reason) its generation stops,
    /// charged what it generated.
    private static func abandon(_ turns: [Turn], stopping reason: StopReason?) {
        for turn in turns {
            turn.started.events.stopReading()
            if let reason { turn.started.generation.control.stop(reason) }
        }
    }

    /// Non-streamed: every answer read whole, then one `chat.completion` with a choice for each. A failure of any of
    /// them, even after some text (kept in Sluice's store), is the call's error, and the others are stopped.
    private static func wholeAnswers(
        _ turns: [Turn], envelope: OpenAIWire.Envelope, withLogprobs: Bool, headers: HTTPFields
    ) async throws -> Response {
        let answers = try await withThrowingTaskGroup(of: (Int, WholeAnswer).self) { group in
            for (index, turn) in turns.enumerated() {
                group.addTask {
                    var rest = turn.rest
                    return (index, try await WholeAnswer.collect(first: turn.first, rest: &rest))
                }
            }
            var answers: [WholeAnswer?] = Array(repeating: nil, count: turns.count)
            do {
                for try await (index, answer) in group { answers[index] = answer }
            } catch {
                abandon(turns, stopping: .otherAnswerFailed)
                throw error
            }
            return answers.map { $0! }
        }
        let choices = answers.enumerated().map { index, answer in
            OpenAIWire.choice(
                index, content: answer.text, toolCalls: answer.toolCalls, reasoning: answer.reasoning,
                signedThinking: answer.signedThinking, logprobs: withLogprobs ? answer.logprobs : nil,
                finishReason: answer.done.finishReason)
        }
        let (usage, cost) = total(answers.map(\.done))
        var fields = headers
        fields[.contentType] = "application/json"
        tell(cost, in: &fields)
        let answered = OpenAIWire.Envelope(id: envelope.id, created: envelope.created, model: answers[0].done.model)
        return json(.ok, OpenAIWire.completion(answered, choices: choices, usage: usage, cost: cost), headers: fields)
    }

    /// Streamed: each answer's events as they come, as chunks of its choice; once every answer has ended, the usage
    /// chunk (if asked for) and `[DONE]`. An answer that fails ends the stream with its error, and the others stop.
    private static func writeAnswers(
        _ turns: [Turn], envelope: OpenAIWire.Envelope, includeUsage: Bool, withLogprobs: Bool,
        to writer: inout any ResponseBodyWriter
    ) async throws {
        let (events, sink) = AsyncStream<(choice: Int, event: TurnEvent?)>.makeStream()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, turn) in turns.enumerated() {
                group.addTask {
                    var rest = turn.rest
                    var next = turn.first
                    while let event = next {
                        sink.yield((index, event))
                        if case .done = event { return }
                        if case .error = event { return }
                        next = await rest.next()
                    }
                    // Ended with neither: Sluice is stopping.
                    sink.yield((index, nil))
                }
            }
            var streams = turns.indices.map {
                GatewayStream(envelope: envelope, includeUsage: includeUsage, withLogprobs: withLogprobs, choice: $0, closes: false)
            }
            var buffer = ByteBuffer()
            // Each answer's role chunk first, as OpenAI starts every choice.
            for stream in streams { buffer.writeString(stream.opening()) }
            try await writer.write(buffer)
            var ends: [TurnEvent.Done?] = Array(repeating: nil, count: turns.count)
            var open = turns.count
            var failed = false
            for await (choice, event) in events {
                guard let event else {
                    failed = true
                    try await writer.write(ByteBuffer(string: OpenAIWire.event(OpenAIWire.streamError(OpenAIWire.interrupted(partial: true)))))
                    break
                }
                if let bytes = streams[choice].bytes(for: event) { try await writer.write(bytes) }
                if case .error = event {
                    failed = true
                    break
                }
                if case .done(let done) = event {
                    ends[choice] = done
                    open -= 1
                    if open == 0 { break }
                }
            }
            sink.finish()
            if open == 0 {
                let (usage, cost) = total(ends.map { $0! })
                let answered = OpenAIWire.Envelope(id: envelope.id, created: envelope.created, model: ends[0]!.model)
                let end = (includeUsage ? OpenAIWire.event(OpenAIWire.usageChunk(answered, usage: usage, cost: cost)) : "") + OpenAIWire.done
                try await writer.write(ByteBuffer(string: end))
            } else if failed {
                // The stream ended with one answer's error: the others are not wanted.
                abandon(turns, stopping: .otherAnswerFailed)
            } else {
                // The events stopped coming because the response's task was cancelled: the client is gone, which
                // the caller handles as for one answer.
                throw CancellationError()
            }
            try await group.waitForAll()
        }
        try await writer.finish(nil)
    }

    /// The answers' usage added up, and their cost (known only when every answer's is).
    private static func total(_ ends: [TurnEvent.Done]) -> (WireUsage, cost: String?) {
        var usage = ends[0].usage
        func add(_ a: Int?, _ b: Int?) -> Int? { a == nil && b == nil ? nil : (a ?? 0) + (b ?? 0) }
        for end in ends.dropFirst() {
            usage.inputTokens = add(usage.inputTokens, end.usage.inputTokens)
            usage.outputTokens = add(usage.outputTokens, end.usage.outputTokens)
            usage.totalTokens = add(usage.totalTokens, end.usage.totalTokens)
            usage.cachedInputTokens = add(usage.cachedInputTokens, end.usage.cachedInputTokens)
            usage.cacheWriteTokens = add(usage.cacheWriteTokens, end.usage.cacheWriteTokens)
        }
        let costs = ends.map { $0.costUSD.flatMap(USDAmount.init) }
        let cost = costs.contains { $0 == nil } ? nil : costs.reduce(USDAmount(picodollars: 0)) { $0 + $1! }
        return (usage, cost?.decimalString)
    }
}

/// The generations of a call's answers that have begun, so that a failure of one stops the others before their first
/// token; one that begins after that is stopped as it begins.
private final class RunningAnswers: Sendable {
    private struct State {
        var generations: [LiveGeneration] = []
        var stopped = false
    }
    private let state = Mutex(State())

    @Sendable func add(_ generation: LiveGeneration) {
        let stopNow = state.withLock { state in
            if !state.stopped { state.generations.append(generation) }
            return state.stopped
        }
        if stopNow { generation.control.stop(.otherAnswerFailed) }
    }

    func stopAll() {
        let generations = state.withLock { state in
            state.stopped = true
            return state.generations
        }
        for generation in generations { generation.control.stop(.otherAnswerFailed) }
    }
}
