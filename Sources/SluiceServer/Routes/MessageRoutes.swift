import Foundation
import HTTPTypes
import Hummingbird
import SluiceCore
import SluiceProviders

/// `POST /api/conversations/{id}/messages` (a streamed chat turn) and `POST /api/messages/{id}/cancel`.
struct MessageRoutes {
    let store: any ConversationStore
    let turn: ChatTurn
    let budget: TurnBudget
    let hub: GenerationHub
    let screen: PromptScreen
    let context: ContextBuilder
    /// The queue of a model's upstream: when it is full a new turn is refused at once (503 `busy`).
    let limiter: @Sendable (String) -> ConcurrencyLimiter?
    /// Sent upstream as `X-Sluice-Scenario` when a request carries it (the simulator's fault selector).
    let forwardScenarioHeader: Bool

    func register(on api: RouterGroup<SluiceRequestContext>) {
        api.post("conversations/:id/messages", use: send)
        api.post("messages/:id/cancel", use: cancel)
        api.get("messages/:id/events", use: events)
    }

    @Sendable func send(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let conversation = try await Ownership(store: store).conversation(try context.parameters.require("id"), for: user)
        let body = try await JSONObjectBody(request: request, context: context, allowEmpty: false)
        guard let content = try body.optionalString("content", maxLength: 60_000),
            !content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        else {
            throw APIError.invalid("'content' must be non-empty text: type a message before sending.")
        }
        let temperature = try body.optionalNumber("temperature", in: 0...1)

        let model = try body.optionalString("model", maxLength: 200).flatMap { $0.isEmpty ? nil : $0 } ?? conversation.model
        if let limiter = limiter(model), limiter.isFull {
            var busy = APIError(
                .serviceUnavailable, code: "busy",
                message: "The model is busy: \(limiter.maxConcurrent) answers are being written and \(limiter.queueCapacity) more are waiting. Your message was not sent; send it again in a moment.")
            busy.headers[.retryAfter] = "1"
            throw busy
        }
        let history = try await store.messages(conversationID: conversation.id)
        // The user's words are committed before anything goes upstream: nothing is lost if the rest fails.
        let now = Date()
        try await screen.screen(content, conversationID: conversation.id, userID: user.id, at: now, logger: context.logger)
        let userMessage = Message(
            id: Identifier.make(), conversationID: conversation.id, role: .user, content: content, status: .complete,
            model: nil, createdAt: now)
        try await store.insert(userMessage)
        if history.isEmpty, conversation.title == ConversationRoutes.defaultTitle {
            try await store.renameConversation(id: conversation.id, title: Self.title(from: content))
        }
        let assistantID = Identifier.make()
        // What fits the model's window: recent messages in full, older ones as the running summary.
        let built = try await self.context.turn(
            conversation: conversation, history: history, tail: [ChatMessage(role: .user, content: content)], model: model,
            logger: context.logger)
        // Tokens are held before anything is spent; a turn that does not fit is refused here with 429.
        let (chatRequest, hold) = try await budget.hold(
            ChatRequest(
                model: model, messages: built.messages,
                temperature: temperature, maxTokens: turn.settings.maxOutputTokens,
                extraHeaders: Self.scenarioHeaders(request, forward: forwardScenarioHeader)),
            user: user, conversationID: conversation.id, messageID: assistantID)
        let assistant = Message(
            id: assistantID, conversationID: conversation.id, role: .assistant, content: "", status: .streaming,
            model: model, createdAt: now.addingTimeInterval(0.001))
        try await store.insert(assistant)

        let meta = TurnEvent.meta(.init(
            conversationID: conversation.id, userMessageID: userMessage.id, assistantMessageID: assistant.id, model: model,
            context: built.meta))
        let plan = ChatTurn.Plan(
            assistantMessageID: assistant.id, request: chatRequest, logger: context.logger, hold: hold,
            conversationID: conversation.id, systemPrompt: conversation.systemPrompt,
            rebuild: self.context.fallbackRequests(
                conversation: conversation, history: history, tail: [ChatMessage(role: .user, content: content)],
                base: chatRequest, logger: context.logger))
        return Self.startStreaming(plan, meta: meta, turn: turn, hub: hub)
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

    /// Starts a generation in the hub and answers with its event stream, `meta` first.
    static func startStreaming(_ plan: ChatTurn.Plan, meta: TurnEvent, turn: ChatTurn, hub: GenerationHub) -> Response {
        let (generation, follower) = hub.start(turn, plan: plan)
        let stopOnDisconnect = turn.settings.stopOnDisconnect
        return TurnStreamResponse.make(
            prefix: [meta], events: follower, pingInterval: turn.settings.pingInterval,
            onClientGone: { if stopOnDisconnect { generation.control.stop(.clientDisconnected) } })
    }

    /// Replays an answer's events after `Last-Event-ID: <message id>:<seq>` (or `?after=<seq>`), then follows
    /// it live until it ends. Works while it is generated and after it finished.
    @Sendable func events(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let (message, _) = try await Ownership(store: store).message(try context.parameters.require("id"), for: try context.requireUser())
        guard message.role == .assistant else {
            throw APIError.invalid("Only an assistant message has an event stream; this one was written by the user.")
        }
        var after = 0
        if let lastEventID = request.headers[HTTPField.Name("Last-Event-ID")!] {
            let parts = lastEventID.split(separator: ":")
            if parts.count == 2, parts[0] == message.id, let seq = Int(parts[1]) { after = seq }
        } else if let value = request.uri.queryParameters.get("after") {
            guard let seq = Int(value), seq >= 0 else { throw APIError.invalid("'after' must be a token number, 0 or more.") }
            after = seq
        }
        let source = hub.generation(message.id)?.follow(after: after)
            ?? StoredReplay.events(messageID: message.id, after: after, store: store)
        return TurnStreamResponse.make(prefix: [], events: source, pingInterval: turn.settings.pingInterval)
    }

    @Sendable func cancel(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let (message, _) = try await Ownership(store: store).message(try context.parameters.require("id"), for: try context.requireUser())
        guard hub.cancel(message.id) else {
            throw APIError(
                .conflict, code: "not_running",
                message: "This answer is not being generated any more (its status is \(message.status.rawValue)).")
        }
        return Response(
            status: .accepted, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: "{\"id\":\(JSONText.quote(message.id)),\"status\":\"cancelling\"}")))
    }

    /// A title from the first message, as chat apps show it: its first line, cut at a word near 60 characters.
    static func title(from content: String) -> String {
        let firstLine = content.split(whereSeparator: \.isNewline).first.map(String.init) ?? content
        let trimmed = firstLine.trimmingCharacters(in: .whitespaces)
        guard trimmed.count > 60 else { return trimmed }
        let cut = trimmed.prefix(60)
        let endsAtWord = trimmed[cut.endIndex].isWhitespace
        let atWord = endsAtWord ? cut : (cut.lastIndex(of: " ").map { cut[..<$0] } ?? cut)
        return atWord.trimmingCharacters(in: .whitespaces) + "…"
    }

    /// The conversation as the upstream sees it: the system prompt, earlier turns that have text (stopped and
    /// partial answers included, failed empty ones and messages the guard rejected left out), then the new message.
    static func upstreamMessages(conversation: Conversation, history: [Message], newMessage: String?) -> [ChatMessage] {
        var messages: [ChatMessage] = []
        if let system = conversation.systemPrompt { messages.append(ChatMessage(role: .system, content: system)) }
        for message in history
        where !message.content.isEmpty && message.status != .streaming && message.status != .rejected && !message.superseded {
            messages.append(ChatMessage(role: message.role, content: message.content))
        }
        if let newMessage { messages.append(ChatMessage(role: .user, content: newMessage)) }
        return messages
    }
}
