import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SluiceCore
import SluiceProviders

/// Starts a chat turn in a conversation: refuses it when the model's queue is full, screens and stores the
/// user's message before anything goes upstream, fits the context, holds the budget, stores the empty answer
/// and hands the generation to the hub. The web API's messages route and the OpenAI-compatible gateway both
/// start their turns here, so both get the same guard, context handling, accounting and resilience.
struct TurnLauncher: Sendable {
    let store: any ConversationStore
    let turn: ChatTurn
    let preparation: TurnPreparation
    let hub: GenerationHub
    let screen: PromptScreen
    /// The queue of a model's upstream: when it is full a new turn is refused at once (503 `busy`).
    let limiter: @Sendable (String) -> ConcurrencyLimiter?
    /// Sent upstream as `X-Sluice-Scenario` when a request carries it (the simulator's fault selector).
    let forwardScenarioHeader: Bool

    /// What a started turn gives its route: the `meta` event, the running generation and its events after `meta`.
    struct Started {
        let meta: TurnEvent
        let assistantMessageID: String
        let generation: LiveGeneration
        let events: EventFeed
        /// The steps' times so far, for `Server-Timing`; later steps are marked as the generation reaches them.
        let timings: TurnTimings
        /// The user's rate limits with this turn counted, if the user has any.
        var rateLimits: RateLimits? = nil
        /// The same for the labelled key the turn was made with, if it has rate limits of its own.
        var keyRateLimits: RateLimits? = nil
        /// The request's input tokens as Sluice counted them for the hold, when it could (Anthropic's
        /// `message_start` says them before the answer).
        var inputTokens: Int? = nil
    }

    /// The turn's inputs beyond the conversation: the new message and the caller's options.
    struct Input {
        /// The user's new message; unused when the turn answers `toolResults`.
        let content: String
        let model: String
        var temperature: Double?
        var maxTokens: Int?
        var sampling = SamplingOptions()
        /// The functions a gateway caller offers the model.
        var tools: ToolOptions? = nil
        /// A gateway caller's results of the functions the last answer called (`tool` messages): when there are
        /// any, they are what this turn adds and answers, instead of a user's message.
        var toolResults: [ChatMessage] = []
        /// `GatewayCall.prefill`: sent after what the turn adds; the answer starts with it, and the model continues it.
        var prefill: String? = nil
        /// Whether the end event carries the budget and the conversation's total (`ChatTurn.Plan.reportsBudget`).
        var reportsBudget = true
        /// `ChatTurn.Plan.threadKey`.
        var threadKey: (@Sendable (_ answer: ChatMessage) -> String)? = nil
        /// `TurnPreparation.Ask.apiKey`.
        var apiKey: KeyUse? = nil
        /// `ChatTurn.Plan.cache`.
        var cache: ResponseCacheUse? = nil
        /// Text files the user attached to `content` (the web app's 📎), screened and stored with it.
        var attachments: [Attachment] = []
        /// Images the user's message shows the model (a gateway caller's `image_url` parts).
        var images: [ImageInput] = []
        /// False: the conversation (which the route made for this turn alone, `unsaved`) is deleted once the turn
        /// is settled, or at once when it is refused (`GatewayCall.keep`).
        var keep = true
        /// `TurnPreparation.Ask.extraAnswer`.
        var extraAnswer = false
        /// `TurnPreparation.Ask.tags`.
        var tags: [String] = []
    }

    /// Throws `busy` when the model's queue is full, before anything is stored.
    func checkCapacity(model: String) throws {
        guard let limiter = limiter(model), limiter.isFull else { return }
        var busy = APIError(
            .serviceUnavailable, code: "busy",
            message: "The model is busy: \(limiter.maxConcurrent) answers are being written and \(limiter.queueCapacity) more are waiting. Your message was not sent; send it again in a moment.")
        busy.headers[.retryAfter] = "1"
        throw busy
    }

    /// `unsaved`: the route made `conversation` and `history` but did not store them; they are stored with the
    /// user's message, in one commit. `executor`: where the generation prefers to run (the client's event loop).
    /// `receivedAt`: when the request arrived, where `Started.timings` count from.
    func start(
        _ input: Input, in conversation: Conversation, history: [Message], unsaved: Bool = false, user: User,
        request: Request, logger: Logger, executor: (any TaskExecutor)? = nil, receivedAt: ContinuousClock.Instant = .now
    ) async throws -> Started {
        guard !input.keep else {
            return try await run(
                input, in: conversation, history: history, unsaved: unsaved, user: user, request: request, logger: logger,
                executor: executor, receivedAt: receivedAt)
        }
        precondition(unsaved, "a turn that is not kept has a conversation of its own")
        let discard = { @Sendable [store] in
            do {
                try await store.deleteConversation(id: conversation.id)
            } catch {
                logger.error("could not delete a turn made with store: false", metadata: ["error": "\(error)"])
            }
        }
        do {
            // Marked before it exists: should this instance die mid-turn, recovery deletes it (and lists leave it out).
            try await store.markUnkept(conversationID: conversation.id, at: Date())
            return try await run(
                input, in: conversation, history: history, unsaved: unsaved, user: user, request: request, logger: logger,
                executor: executor, receivedAt: receivedAt, discard: discard)
        } catch {
            // Refused (guard, budget, limits) after its message was stored, or failed before the generation began.
            await discard()
            throw error
        }
    }

    @inline(never)
    private func run(
        _ input: Input, in conversation: Conversation, history: [Message], unsaved: Bool, user: User, request: Request,
        logger: Logger, executor: (any TaskExecutor)?, receivedAt: ContinuousClock.Instant,
        discard: (@Sendable () async -> Void)? = nil
    ) async throws -> Started {
        let timings = TurnTimings(received: receivedAt)
        try checkCapacity(model: input.model)
        // Before anything is stored: the new message's images, and those of the history that will be sent.
        if turn.catalog.acceptsImages(input.model) == false,
            !input.images.isEmpty || input.toolResults.contains(where: { !$0.images.isEmpty })
                || history.contains(where: { !$0.images.isEmpty && ContextBuilder.isSendable($0) })
        {
            throw ModelAccess.imagesUnsupported(input.model)
        }
        let save = { @Sendable [self] (message: Message) async throws in
            try await store([message], in: conversation, after: history, unsaved: unsaved)
        }
        // The user's words are committed before anything goes upstream: nothing is lost if the rest fails. They go
        // with the budget hold, in its commit (kept when the hold is refused); a failure before the hold (counting,
        // the context) stores them on its way out.
        let now = Date()
        let added: [Message]
        if input.toolResults.isEmpty {
            timings.mark(.guardStarted)
            try await screen.screen(
                input.content, attachments: input.attachments, conversationID: conversation.id, userID: user.id, at: now,
                logger: logger, save: save)
            timings.mark(.guardEnded)
            var message = Message(
                id: Identifier.make(), conversationID: conversation.id, role: .user, content: input.content,
                status: .complete, model: nil, createdAt: now)
            message.attachments = input.attachments
            message.images = input.images
            added = [message]
        } else {
            // A program's output, not a person's words: not screened (docs/api.md, "Function calling").
            // One time for all: they are inserted in order in one statement, which keeps their order.
            added = input.toolResults.map { result in
                var message = Message(
                    id: Identifier.make(), conversationID: conversation.id, role: .tool, content: result.content,
                    status: .complete, model: nil, createdAt: now, toolCallID: result.toolCallID)
                // A screenshot tool's images, with its text.
                message.images = result.images
                return message
            }
        }
        if history.isEmpty, conversation.title == ConversationRoutes.defaultTitle {
            try await store.renameConversation(
                id: conversation.id, title: MessageRoutes.title(question: input.content, images: input.images.count))
        }
        // A message with another model (the web app's picker): the conversation goes on with it.
        if !unsaved, input.model != conversation.model {
            try await store.setConversationModel(id: conversation.id, model: input.model)
        }
        var assistant = Message(
            id: Identifier.make(), conversationID: conversation.id, role: .assistant, content: "", status: .streaming,
            model: input.model, createdAt: now.addingTimeInterval(0.001))
        // A prefilled answer is stored from its start, which counts as its first token (events number the model's
        // after it); the model is sent that start as the last message, to continue.
        var tail = added.map(\.chatMessage)
        var prior: ChatTurn.Prior?
        if let prefill = input.prefill {
            assistant.content = prefill
            assistant.tokenEnds = [prefill.utf8.count]
            tail.append(ChatMessage(role: .assistant, content: prefill))
            prior = ChatTurn.Prior(content: prefill, tokenEnds: assistant.tokenEnds, usage: nil)
        }
        // Fit the window, then hold the tokens before anything is spent: a turn that does not fit is refused
        // here with 429, its question stored. The answer's row is stored with a granted hold.
        let prepared: TurnPreparation.Prepared
        do {
            prepared = try await preparation.prepare(
                .init(model: input.model, temperature: input.temperature, maxTokens: input.maxTokens, sampling: input.sampling,
                      tools: input.tools, extraHeaders: Self.scenarioHeaders(request, forward: forwardScenarioHeader),
                      reportsBudget: input.reportsBudget, threadKey: input.threadKey, apiKey: input.apiKey, cache: input.cache,
                      extraAnswer: input.extraAnswer, tags: input.tags),
                conversation: conversation, history: history, tail: tail,
                user: user, answerID: assistant.id, answer: assistant,
                prelude: HoldPrelude(conversation: unsaved ? conversation : nil, messages: (unsaved ? history : []) + added),
                prior: prior, logger: logger)
        } catch {
            try await storeIfMissing(added, in: conversation, after: history, unsaved: unsaved)
            throw error
        }
        if !prepared.preludeStored { try await store(added, in: conversation, after: history, unsaved: unsaved) }
        if !prepared.answerStored { try await store.insert(assistant) }
        timings.mark(.held)

        let meta = TurnEvent.meta(.init(
            conversationID: conversation.id, userMessageID: added[0].id, assistantMessageID: assistant.id,
            model: input.model, context: prepared.context))
        var plan = prepared.plan
        plan.timings = timings
        plan.discard = discard
        let (generation, events) = hub.start(turn, plan: plan, on: executor)
        return Started(
            meta: meta, assistantMessageID: assistant.id, generation: generation, events: events, timings: timings,
            rateLimits: prepared.plan.hold?.rateLimits, keyRateLimits: prepared.plan.hold?.keyRateLimits,
            inputTokens: prepared.plan.countedInputTokens)
    }

    /// Stores the user's message (with its conversation and history when the route did not store them).
    /// Out of line, as `storeIfMissing` is: inlined at its three call sites, the two took about 2.5 KB of `start`'s
    /// frame, which the connection's task keeps for as long as the connection lives (docs/benchmarks.md, "Memory per
    /// stream").
    @inline(never)
    private func store(_ messages: [Message], in conversation: Conversation, after history: [Message], unsaved: Bool) async throws {
        if unsaved {
            try await store.createConversation(conversation, messages: history + messages)
        } else if messages.count == 1 {
            try await store.insert(messages[0])
        } else {
            try await store.insert(messages)
        }
    }

    /// After a failure before the hold: the user's message is stored unless the failed step already did.
    @inline(never)
    private func storeIfMissing(_ messages: [Message], in conversation: Conversation, after history: [Message], unsaved: Bool) async throws {
        if try await store.message(id: messages[0].id) == nil {
            try await store(messages, in: conversation, after: history, unsaved: unsaved)
        }
    }

    /// The simulator's controls (`X-Sluice-Scenario`, `-Tokens`, `-Delay-Ms`, `-Stall-Ms`, `-Gate`), passed upstream only
    /// when the server is configured to (for tests and chaos runs against the simulator).
    static func scenarioHeaders(_ request: Request, forward: Bool) -> [String: String] {
        guard forward else { return [:] }
        var headers: [String: String] = [:]
        for name in ["X-Sluice-Scenario", "X-Sluice-Tokens", "X-Sluice-Delay-Ms", "X-Sluice-Stall-Ms", "X-Sluice-Gate"] {
            if let value = request.headers[HTTPField.Name(name)!] { headers[name] = value }
        }
        return headers
    }
}

extension TurnLauncher.Input {
    /// `TurnPreparation.Ask.withSettings(of:)`, for a new message of the web app.
    func withSettings(of conversation: Conversation) -> Self {
        var input = self
        conversation.parameters?.fill(temperature: &input.temperature, maxTokens: &input.maxTokens, sampling: &input.sampling)
        return input
    }
}
