import Foundation
import Logging
import SluiceCore
import Synchronization

/// How Sluice fits conversations into a model's context window.
public struct ContextSettings: Sendable {
    /// The most of the window the input may fill.
    public var inputShare: Double
    /// At most this many recent messages are sent in full (pinned ones come on top).
    public var maxRecentMessages: Int
    /// After a fold, this many of the most recent messages stay in full, so that the next turns need no fold.
    public var keepAfterFold: Int
    /// Other rules for some models (by name): their share of the window and number of recent messages.
    public var perModel: [String: ModelRule]

    /// A model's own context rule.
    public struct ModelRule: Sendable, Equatable {
        public var inputShare: Double
        public var maxRecentMessages: Int

        public init(inputShare: Double, maxRecentMessages: Int) {
            self.inputShare = inputShare
            self.maxRecentMessages = maxRecentMessages
        }
    }

    public init(
        inputShare: Double = 0.75, maxRecentMessages: Int = 10, keepAfterFold: Int = 4, perModel: [String: ModelRule] = [:]
    ) {
        self.inputShare = inputShare
        self.maxRecentMessages = maxRecentMessages
        self.keepAfterFold = keepAfterFold
        self.perModel = perModel
    }

    /// The rule for `model`: its own if it has one, else the defaults.
    public func rule(for model: String) -> ModelRule {
        perModel[model] ?? ModelRule(inputShare: inputShare, maxRecentMessages: maxRecentMessages)
    }
}

/// Builds the upstream request of a turn from the stored conversation: counts every message with the model's
/// counter, plans what fits (`ContextPlanner`), folds what fell out into the running summary with the
/// summariser (extending it, never recomputing it), and checks the result with an exact count.
struct ContextBuilder: Sendable {
    let store: any ConversationStore
    let counter: (any PromptCounter)?
    let catalog: ModelCatalog
    let summarizer: (any ConversationSummarizer)?
    let settings: ContextSettings
    /// The output tokens kept free in the window.
    let outputReserve: Int
    let metrics: SluiceMetrics
    let tokenCache = TokenCountCache()

    /// The request of one turn and how it was made.
    struct Built: Sendable {
        var messages: [ChatMessage]
        /// `nil` when the model's window or tokenizer is unknown: everything is sent as it is.
        var plan: ContextPlan?
        var history: [Message]
        var summary: ConversationSummary?
        var contextWindow: Int?
        /// Messages folded into the summary while building this turn.
        var foldedNow: Int

        /// The exact input tokens of `messages`, when the builder counted them (a known window and tokenizer).
        var inputTokens: Int? { plan?.inputTokens }

        var meta: TurnEvent.ContextInfo? {
            plan.map {
                TurnEvent.ContextInfo(
                    messagesInFull: $0.inFullCount, messagesSummarised: $0.summarisedCount, messagesExcluded: $0.excludedCount,
                    messagesOutOfWindow: $0.states.values.filter { $0 == .outOfWindow }.count, summarisedNow: foldedNow,
                    inputTokens: $0.inputTokens, inputBudget: $0.inputBudget)
            }
        }
    }

    /// Plans the request of a turn.
    /// - Parameters:
    ///   - history: the earlier messages (oldest first); those never sent (rejected, empty, superseded) are skipped.
    ///   - tail: what the turn adds and always sends (the new message; for continue also the partial answer).
    ///   - fold: summarise what falls out of the window now (a turn); `false` only describes (`GET /context`).
    ///   - tools: the functions a gateway caller offers: their definitions take room in the window too.
    ///   - thinking: output the model may spend thinking (a reasoning effort's budget), kept free beside the answer's.
    func build(
        conversation: Conversation, history: [Message], tail: [ChatMessage], model: String, fold: Bool,
        tools: ToolOptions? = nil, thinking: Int = 0, logger: Logger
    ) async throws -> Built {
        let eligible = history.filter(Self.isSendable)
        // A summary folds earlier messages: a conversation without history has none (one read saved per new one).
        var summary = history.isEmpty ? nil : try await store.summary(conversationID: conversation.id)
        // A summary that folded a message no longer in the thread (an earlier question was edited, so the turns from it
        // on left the thread) tells of a conversation that is no longer this one: it is not sent, and what needs
        // folding is folded anew.
        if let covered = summary?.coveredMessageIDs, !covered.isEmpty {
            let thread = Set(history.lazy.filter { !$0.superseded }.map(\.id))
            if !covered.allSatisfy(thread.contains) { summary = nil }
        }
        guard let counter, let window = catalog.contextWindow(for: model) else {
            // Without a window or a tokenizer nothing can be measured: everything is sent, except what the user
            // excluded (and the summary stands for what it covers, if there is one).
            let covered = Set(summary?.coveredMessageIDs ?? [])
            let kept = history.filter {
                $0.contextMode == .pinned || ($0.contextMode == .auto && !covered.contains($0.id))
            }
            var messages = MessageRoutes.upstreamMessages(conversation: conversation, history: kept, newMessage: nil)
            if let summary, history.contains(where: { covered.contains($0.id) && $0.contextMode == .auto }) {
                messages.insert(summary.asMessage, at: conversation.systemPrompt == nil ? 0 : 1)
            }
            messages += tail
            return Built(messages: Self.shaped(messages, tools: tools), plan: nil, history: history, summary: summary, contextWindow: nil, foldedNow: 0)
        }
        let rule = settings.rule(for: model)
        let policy = ContextPolicy(
            contextWindow: window, outputReserve: min(outputReserve + thinking, window / 2), inputShare: rule.inputShare,
            maxRecentMessages: rule.maxRecentMessages)
        let planner = ContextPlanner(policy: policy)
        let system = try await conversation.systemPrompt.asyncMap { text -> (ChatMessage, Int) in
            let message = ChatMessage(role: .system, content: text)
            // Keyed by the text itself too: a project's excerpts change with the question, at times not in length.
            return (message, try await tokens(of: message, id: "system:\(conversation.id):\(text.hashValue)", counter: counter))
        }
        var candidates: [ContextCandidate] = []
        for message in eligible {
            let chat = message.chatMessage
            candidates.append(ContextCandidate(
                id: message.id, message: chat, mode: message.contextMode,
                // A rewritten answer is counted anew (a rewrite may keep the text's length, which the key has).
                tokens: try await tokens(
                    of: chat, id: message.editedAt.map { "\(message.id)@\($0.timeIntervalSince1970)" } ?? message.id, counter: counter)))
        }
        // The tool definitions go with every request: counted with what the turn always sends — and so does the signed
        // thinking a thinking request sends back with the calls of the loop under way (Anthropic reads it as input).
        var toolTokens = try await tools.asyncMap { try await counter.textTokens($0.countedText) } ?? 0
        if thinking > 0 { toolTokens += try await counter.loopThinkingTokens(eligible.map(\.chatMessage) + tail) }
        var tailTokens = toolTokens
        for message in tail { tailTokens += try await tokens(of: message, id: nil, counter: counter) }

        func plan(maxRecent: Int? = nil) async throws -> ContextPlan {
            let summaryPart = try await summary.asyncMap { ($0, try await tokens(of: $0.asMessage, id: nil, counter: counter)) }
            return try planner.plan(
                system: system, history: candidates, summary: summaryPart, newMessages: (tail, tailTokens), maxRecent: maxRecent)
        }

        var current = try await plan()
        var foldedNow = 0
        if fold, !current.toSummarise.isEmpty, let summarizer {
            // Fold what fell out and the older part of the recent run too, so the next turns need no fold.
            let recentAuto = candidates.filter { $0.mode == .auto && current.states[$0.id] == .inContext }
            let folded = current.toSummarise + recentAuto.dropLast(min(settings.keepAfterFold, max(1, rule.maxRecentMessages / 2)))
            do {
                let text = try await summarizer.summarize(previous: summary?.text, messages: folded.map(\.message))
                let extended = ConversationSummary(
                    text: text, coveredMessageIDs: (summary?.coveredMessageIDs ?? []) + folded.map(\.id), model: nil,
                    updatedAt: Date())
                try await store.saveSummary(conversationID: conversation.id, summary: extended)
                summary = extended
                foldedNow = folded.count
                metrics.summarised(messages: folded.count)
                current = try await plan()
            } catch {
                // The turn goes on without them: they stay out of the window and are folded next time.
                metrics.summaryFailed()
                logger.warning("could not summarise older messages", metadata: ["error": "\(error)"])
            }
        }
        // The exact count of the whole request: a chat template is not always the sum of its messages. Tighten
        // the recent run until it fits.
        // A window's edge may fall between a function call and its result: both go, or neither.
        current.messages = Self.shaped(current.messages, tools: tools)
        var exact = try await counter.promptTokens(current.messages) + toolTokens
        var maxRecent = current.states.values.filter { $0 == .inContext }.count
        while exact > current.inputBudget, maxRecent > 0 {
            maxRecent -= 1
            current = try await plan(maxRecent: maxRecent)
            current.messages = Self.shaped(current.messages, tools: tools)
            exact = try await counter.promptTokens(current.messages) + toolTokens
        }
        guard exact <= current.inputBudget else {
            throw ContextOverflow(neededTokens: exact, inputBudget: current.inputBudget)
        }
        current.inputTokens = exact
        return Built(
            messages: current.messages, plan: current, history: history, summary: summary, contextWindow: window,
            foldedNow: foldedNow)
    }

    /// `build` for a turn: folds, and answers a message that cannot fit with a clear 413.
    // Out of line: inlined, its frame joins its caller's, which the connection's task keeps for as long as the
    // connection lives (docs/benchmarks.md, "Memory per stream"; scripts/async-frame-sizes.py).
    @inline(never)
    func turn(
        conversation: Conversation, history: [Message], tail: [ChatMessage], model: String, tools: ToolOptions? = nil,
        thinking: Int = 0, logger: Logger
    ) async throws -> Built {
        do {
            return try await build(
                conversation: conversation, history: history, tail: tail, model: model, fold: true, tools: tools,
                thinking: thinking, logger: logger)
        } catch let overflow as ContextOverflow {
            throw Self.overflowError(overflow, window: catalog.contextWindow(for: model))
        }
    }

    /// How to ask a fallback model: the same turn's context built again for that model's window (without a
    /// fold: the summary as it is), with the request's other settings — and its project's files cut again when that
    /// window is smaller (a project's excerpts for a 128 000-token model do not fit the local model's 8 192), with the
    /// excerpts' sources.
    func fallbackRequests(
        conversation: Conversation, history: [Message], tail: [ChatMessage], base: ChatRequest, logger: Logger
    ) -> @Sendable (String) async -> ChatTurn.Fallback? {
        { model in
            let fitted = conversation.fittingProject(
                to: InstructionsRoute.projectFileBudget(window: catalog.contextWindow(for: model)))
            guard let built = try? await build(
                conversation: fitted ?? conversation, history: history, tail: tail, model: model, fold: false,
                tools: base.tools, thinking: base.sampling.reasoning?.anthropicBudget ?? 0, logger: logger)
            else { return nil }
            var request = base
            request.model = model
            request.messages = built.messages
            return ChatTurn.Fallback(request: request, sources: (fitted ?? conversation).excerptSources)
        }
    }

    /// Function calls and results as upstreams take them: each call next to its result, and written as text when
    /// the request offers no tools.
    static func shaped(_ messages: [ChatMessage], tools: ToolOptions?) -> [ChatMessage] {
        let paired = messages.pairingToolCalls()
        return tools == nil ? paired.flatteningToolCalls() : paired
    }

    /// Messages that are ever sent upstream: with text or function calls, finished, not rejected, not an earlier
    /// version.
    static func isSendable(_ message: Message) -> Bool {
        (!message.content.isEmpty || !message.toolCalls.isEmpty || !message.images.isEmpty) && message.status != .streaming && message.status != .rejected && !message.superseded
    }

    /// A message's tokens in a prompt (framing included), counted once per stored message.
    private func tokens(of message: ChatMessage, id: String?, counter: any PromptCounter) async throws -> Int {
        let key = id.map { "\($0)|\(message.content.utf8.count)" }
        if let key, let cached = tokenCache.get(key) { return cached }
        // The chat format's framing of one message: 3 tokens plus the role (the cookbook rule, close for templates).
        var count = try await counter.textTokens(message.content) + 4
        for call in message.toolCalls { count += try await counter.textTokens(call.name + call.arguments) + 3 }
        if let key { tokenCache.set(key, count) }
        return count
    }

    /// The error a user sees when even their message alone does not fit.
    static func overflowError(_ overflow: ContextOverflow, window: Int?) -> APIError {
        var error = APIError(
            .contentTooLarge, code: "context_overflow",
            message: "Your message needs \(overflow.neededTokens) tokens with the system prompt, but this model takes at most "
                + "\(overflow.inputBudget) input tokens\(window.map { " (of its \($0)-token window)" } ?? ""). Shorten the "
                + "message or the system prompt (in the web app: the conversation's instructions, its project's instructions "
                + "and files, and yours under Personalize), or split it into several messages. It was kept in the "
                + "conversation but not sent.")
        error.details = "\"needed_tokens\":\(overflow.neededTokens),\"input_budget\":\(overflow.inputBudget)"
        return error
    }
}

/// Token counts of stored messages, so a long conversation is not counted again on every turn. Bounded: it
/// forgets everything when full, which only costs a recount.
final class TokenCountCache: Sendable {
    private let counts = Mutex<[String: Int]>([:])
    private let capacity = 50_000

    func get(_ key: String) -> Int? { counts.withLock { $0[key] } }
    func set(_ key: String, _ value: Int) {
        counts.withLock {
            if $0.count >= capacity { $0.removeAll(keepingCapacity: true) }
            $0[key] = value
        }
    }
}
