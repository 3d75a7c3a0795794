import SluiceCore
import Synchronization

/// A provider in front of another that keeps personal details from reaching its upstream (LiteLLM's PII masking
/// with `output_parse_pii`): every message's text and every earlier function call's arguments go upstream with
/// email addresses, phone numbers, card numbers, IBANs and social security numbers replaced by placeholders
/// (`PersonalDataMask`), and the answer — its text, its thinking and its function calls' arguments — comes back
/// with the placeholders the model wrote replaced by the details (`PlaceholderRestorer`). The caller, the store and
/// the browser see the details; the upstream never does.
///
/// Images, embeddings, reranking and text completions pass unchanged: a mask would change what they mean (an
/// embedding of a placeholder, code completed around one).
public struct PersonalDataMaskingProvider: ChatProvider {
    public let base: any ChatProvider
    /// Told the model and the counts of each call that masked anything (for the metrics).
    private let onMasked: @Sendable (String, [PersonalDataKind: Int]) -> Void

    public init(_ base: any ChatProvider, onMasked: @escaping @Sendable (String, [PersonalDataKind: Int]) -> Void = { _, _ in }) {
        self.base = base
        self.onMasked = onMasked
    }

    public func streamChat(_ request: ChatRequest) -> ProviderStream {
        var mask = PersonalDataMask(texts: request.messages.flatMap { [$0.content] + $0.toolCalls.map(\.arguments) })
        var masked = request
        for index in masked.messages.indices {
            masked.messages[index].content = mask.mask(masked.messages[index].content)
            for call in masked.messages[index].toolCalls.indices {
                masked.messages[index].toolCalls[call].arguments = mask.mask(masked.messages[index].toolCalls[call].arguments)
            }
        }
        let counts = mask.counts
        PersonalDataTally.current?.record(counts)
        guard !counts.isEmpty else { return base.streamChat(request) }
        onMasked(request.model, counts)
        let upstream = base.streamChat(masked)
        let originals = mask.originals
        return ProviderStream {
            var events = upstream.makeAsyncIterator()
            var restoring = RestoringEvents(originals: originals)
            var ready: [ProviderEvent] = []
            var failure: (any Error)?
            return ProviderStream.Iterator {
                while ready.isEmpty {
                    if let failure { throw failure }
                    do {
                        guard let event = try await events.next() else {
                            ready = restoring.flush()
                            return ready.isEmpty ? nil : ready.removeFirst()
                        }
                        ready = restoring.take(event)
                    } catch {
                        // What was held back is the answer's too: it goes out before the failure does.
                        failure = error
                        ready = restoring.flush()
                    }
                }
                return ready.removeFirst()
            }
        }
    }

    public func checkReady() async throws { try await base.checkReady() }

    public func readiness(named name: String) async -> [UpstreamReadiness] { await base.readiness(named: name) }

    public func send(_ call: UpstreamJSONCall) async throws -> [UInt8] { try await base.send(call) }

    public func streamText(_ request: TextCompletionRequest) -> ProviderStream { base.streamText(request) }
}

/// The events of a masked call with the details put back: the answer's text, its thinking and each function call's
/// arguments each through a restorer of their own. Text is held back only while its tail may be a placeholder;
/// an event of another kind releases what is held first, so the events keep their order.
struct RestoringEvents {
    private let originals: [String: String]
    private var text: PlaceholderRestorer
    private var thinking: PlaceholderRestorer
    private var calls: [Int: PlaceholderRestorer] = [:]
    /// The answer's text since the restorer last held nothing: as the upstream wrote it, as it will be shown, and the
    /// log probabilities of its tokens. It goes on as one unit, so that entries always come before their text.
    private var textFed = ""
    private var textShown = ""
    private var textEntries: [TokenLogprob] = []
    /// Log probabilities received before the text they belong to (`logprobs` precedes its `delta`).
    private var pendingLogprobs: [TokenLogprob] = []

    init(originals: [String: String]) {
        self.originals = originals
        text = PlaceholderRestorer(originals: originals)
        thinking = PlaceholderRestorer(originals: originals)
    }

    mutating func take(_ event: ProviderEvent) -> [ProviderEvent] {
        switch event {
        case .delta(let piece):
            var released = releaseThinking()
            textFed += piece
            textEntries += pendingLogprobs
            pendingLogprobs = []
            textShown += text.feed(piece)
            if !text.isHolding { released += releaseTextUnit() }
            return released
        case .logprobs(let entries):
            pendingLogprobs += entries
            return []
        case .reasoning(let piece):
            var released = releaseText()
            let shown = thinking.feed(piece)
            if !shown.isEmpty { released.append(.reasoning(shown)) }
            return released
        case .toolCall(var call):
            var released = releaseText() + releaseThinking()
            var restorer = calls[call.index] ?? PlaceholderRestorer(originals: originals)
            call.arguments = restorer.feed(call.arguments)
            calls[call.index] = restorer
            released.append(.toolCall(call))
            return released
        case .usage, .queued, .leftQueue:
            // No place in the text (Anthropic's usage comes first, and may come again): nothing to release for it.
            return [event]
        default:
            return flush() + [event]
        }
    }

    /// Everything held back, restored: at the end of the stream, at its failure, and before its last events.
    mutating func flush() -> [ProviderEvent] {
        var released = releaseText() + releaseThinking()
        if !pendingLogprobs.isEmpty {
            released.append(.logprobs(pendingLogprobs))
            pendingLogprobs = []
        }
        for index in calls.keys.sorted() {
            guard var restorer = calls[index], restorer.isHolding else { continue }
            released.append(.toolCall(ToolCallDelta(index: index, arguments: restorer.finish())))
            calls[index] = restorer
        }
        return released
    }

    private mutating func releaseText() -> [ProviderEvent] {
        guard text.isHolding else { return [] }
        textShown += text.finish()
        return releaseTextUnit()
    }

    /// The text held since the restorer last held nothing, after its log probabilities. Where a placeholder was put
    /// back, the entries are merged into one whose token is the text shown (its log probability the sum of theirs —
    /// the probability of the whole stretch — without alternatives, which would spell the placeholder).
    private mutating func releaseTextUnit() -> [ProviderEvent] {
        defer {
            textFed = ""
            textShown = ""
            textEntries = []
        }
        var events: [ProviderEvent] = []
        if !textEntries.isEmpty {
            events.append(.logprobs(textShown == textFed
                ? textEntries : [TokenLogprob(token: textShown, logprob: textEntries.reduce(0) { $0 + $1.logprob })]))
        }
        if !textShown.isEmpty { events.append(.delta(textShown)) }
        return events
    }

    private mutating func releaseThinking() -> [ProviderEvent] {
        guard thinking.isHolding else { return [] }
        return [.reasoning(thinking.finish())]
    }
}

/// What the masking provider masked in the call made under it: the turn sets one around each attempt
/// (`$current.withValue`) and reads it afterwards, for the answer's `done` event, the log and the metrics.
public final class PersonalDataTally: Sendable {
    private let masked = Mutex<[PersonalDataKind: Int]>([:])

    public init() {}

    /// The latest call's counts replace any earlier ones: a retry or a fallback masks the same request again.
    public func record(_ counts: [PersonalDataKind: Int]) { masked.withLock { $0 = counts } }

    /// How many different details of each kind the call masked.
    public var counts: [PersonalDataKind: Int] { masked.withLock { $0 } }

    /// The tally of the attempt this task belongs to, if any.
    @TaskLocal public static var current: PersonalDataTally?
}
