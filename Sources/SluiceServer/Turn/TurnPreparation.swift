import Logging
import SluiceCore

/// Fits a turn's context to the model's window, holds its tokens and describes the generation for `ChatTurn`:
/// the steps a new message, a continued answer and a regenerated answer all take, in this order, before each
/// stores its answer row its own way and starts it.
struct TurnPreparation: Sendable {
    let context: ContextBuilder
    let budget: TurnBudget
    /// The server's output limit, applied on top of the caller's.
    let maxOutputTokens: Int?

    /// What the caller asks of the model.
    struct Ask: Sendable {
        var model: String
        var temperature: Double?
        var maxTokens: Int?
        var sampling = SamplingOptions()
        /// The functions a gateway caller offers the model.
        var tools: ToolOptions? = nil
        var extraHeaders: [String: String] = [:]
        /// Whether the end event carries the budget and the conversation's total (`ChatTurn.Plan.reportsBudget`).
        var reportsBudget = true
        /// `ChatTurn.Plan.threadKey`.
        var threadKey: (@Sendable (_ answer: ChatMessage) -> String)? = nil
        /// The labelled key the request was made with (`SluiceRequestContext.apiKey`): kept with the hold, and its
        /// daily limit held to.
        var apiKey: KeyUse? = nil
        /// `ChatTurn.Plan.cache`.
        var cache: ResponseCacheUse? = nil
        /// An answer after the first of a gateway call for several (`n`): not a request of its own under the rate
        /// limits (`HoldRequest.extraAnswer`).
        var extraAnswer = false
        /// The caller's tags, kept on the ledger's row (`HoldRequest.tags`).
        var tags: [String] = []
    }

    /// The generation to start, and what the `meta` event says about its context.
    struct Prepared: Sendable {
        let plan: ChatTurn.Plan
        let context: TurnEvent.ContextInfo?
        /// Whether `answer` was stored with the hold; if not, the caller stores it.
        let answerStored: Bool
        /// Whether `prelude` was stored with the hold; if not, the caller stores it.
        let preludeStored: Bool
    }

    /// `history` is what comes before `tail` (the messages this turn adds); the answer will be `answerID`.
    /// Throws 429 when the turn does not fit the user's budget — before anything is spent. A new answer's row
    /// (`answer`, with id `answerID`) is stored with the hold, in the same commit, and so is `prelude` (the user's
    /// message), granted or not. When this throws, `prelude` may or may not have been stored.
    // Out of line: inlined, its frame joins its caller's, which the connection's task keeps for as long as the
    // connection lives (docs/benchmarks.md, "Memory per stream"; scripts/async-frame-sizes.py).
    @inline(never)
    func prepare(
        _ ask: Ask, conversation: Conversation, history: [Message], tail: [ChatMessage], user: User,
        answerID: String, answer: Message? = nil, prelude: HoldPrelude? = nil, prior: ChatTurn.Prior? = nil, logger: Logger
    ) async throws -> Prepared {
        // The routes of a new message check it at the door, before anything is stored; a continued or regenerated
        // answer is checked here.
        try ModelAccess.check(user, model: ask.model)
        // What fits the model's window: recent messages in full, older ones as the running summary.
        let built = try await context.turn(
            conversation: conversation, history: history, tail: tail, model: ask.model, tools: ask.tools,
            thinking: ask.sampling.reasoning?.anthropicBudget ?? 0, logger: logger)
        // A continued or regenerated answer of a conversation with images, on a model that does not see them.
        try ModelAccess.checkSeesImages(ask.model, catalog: context.catalog, sending: built.messages)
        let held = try await budget.hold(
            ChatRequest(
                model: ask.model, messages: built.messages, temperature: ask.temperature,
                maxTokens: Self.smaller(ask.maxTokens, maxOutputTokens), sampling: ask.sampling, tools: ask.tools,
                extraHeaders: ask.extraHeaders),
            inputTokens: built.inputTokens, user: user, conversationID: conversation.id, endUser: conversation.endUser,
            messageID: answerID,
            answer: answer, prelude: prelude, apiKey: ask.apiKey, extraAnswer: ask.extraAnswer, tags: ask.tags)
        var plan = ChatTurn.Plan(
            assistantMessageID: answerID, request: held.request, prior: prior, logger: logger, hold: held.hold,
            countedInputTokens: held.inputTokens, conversationID: conversation.id,
            systemPrompt: conversation.systemPrompt,
            rebuild: context.fallbackRequests(
                conversation: conversation, history: history, tail: tail, base: held.request, logger: logger),
            reportsBudget: ask.reportsBudget, threadKey: ask.threadKey, cache: ask.cache)
        plan.sources = conversation.excerptSources
        return Prepared(plan: plan, context: built.meta, answerStored: held.answerStored, preludeStored: held.preludeStored)
    }

    /// The tighter of the caller's and the server's output limit.
    static func smaller(_ a: Int?, _ b: Int?) -> Int? {
        guard let a else { return b }
        return b.map { min(a, $0) } ?? a
    }
}

extension TurnPreparation.Ask {
    /// Takes `conversation`'s own sampling settings (`ConversationParameters`) where this turn left them unset: the
    /// web app's turns do; a gateway call uses only its own.
    func withSettings(of conversation: Conversation) -> Self {
        var ask = self
        conversation.parameters?.fill(temperature: &ask.temperature, maxTokens: &ask.maxTokens, sampling: &ask.sampling)
        return ask
    }
}
