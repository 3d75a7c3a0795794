import Foundation
import HTTPTypes
import Hummingbird
import SluiceCore
import SluiceProviders

/// `POST /api/conversations/{id}/messages` (a streamed chat turn) and `POST /api/messages/{id}/cancel`.
struct MessageRoutes {
    let store: any ConversationStore
    let launcher: TurnLauncher
    var turn: ChatTurn { launcher.turn }
    var hub: GenerationHub { launcher.hub }

    func register(on api: RouterGroup<SluiceRequestContext>) {
        api.post("conversations/:id/messages", use: send)
        api.post("messages/:id/cancel", use: cancel)
        api.get("messages/:id/events", use: events)
    }

    /// Everything before the stream runs in a child task, whose frames the connection's task does not keep while the
    /// answer streams (`inChildTask`).
    @Sendable func send(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        try await inChildTask { try await sendHere(request, context: context) }
    }

    @inline(never)
    private func sendHere(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let conversation = try await Ownership(store: store).conversation(try context.parameters.require("id"), for: user)
        try Ownership.requireActive(conversation)
        let body = try await JSONObjectBody(request: request, context: context, allowEmpty: false, maxBytes: ImagesField.maxBodyBytes)
        let attachments = try AttachmentsField.parse(body)
        let images = try ImagesField.parse(body)
        let (content, temperature, model) = try Self.ask(
            body, in: conversation, user: user, launcher: launcher, ifEmpty: "type a message before sending", withImages: !images.isEmpty)
        let history = try await store.messages(conversationID: conversation.id)
        let started = try await launcher.start(
            TurnLauncher.Input(
                content: content, model: model, temperature: temperature, sampling: try body.reasoningSampling(),
                apiKey: context.apiKey, attachments: attachments,
                images: images
            ).withSettings(of: conversation),
            in: try await InstructionsRoute.personalized(
                conversation, for: user, store: store, catalog: turn.catalog, model: model, question: content, history: history),
            history: history,
            user: user, request: request, logger: context.logger, executor: context.executor, receivedAt: context.receivedAt)
        var meta = started.meta
        if case .meta(var fields) = meta,
            let note = await MemoryRoutes.follow(
                content, askedIn: conversation, answer: started.assistantMessageID, by: user, store: store, logger: context.logger)
        {
            fields.memory = note
            meta = .meta(fields)
        }
        var response = Self.respond(
            meta: meta, generation: started.generation, events: started.events, settings: turn.settings,
            executor: context.executor)
        // The events start at once, so only Sluice's own steps are in it (the model's time is in `done`).
        if let timing = started.timings.serverTiming { response.headers[.serverTiming] = timing }
        return response
    }

    /// A new message's words and options from a web API body — `content` (non-empty), `temperature` (0–1), `model`
    /// (the conversation's when left out) — checked against the user's models and the model's queue before anything
    /// is stored. `ifEmpty` ends the message for missing words; `withImages`, the words may be left out (the images
    /// are the question, as in ChatGPT).
    static func ask(
        _ body: JSONObjectBody, in conversation: Conversation, user: User, launcher: TurnLauncher, ifEmpty: String,
        withImages: Bool = false
    ) throws -> (content: String, temperature: Double?, model: String) {
        let content = try body.optionalString("content", maxLength: .max) ?? ""
        guard withImages || !content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw APIError.invalid("'content' must be non-empty text: \(ifEmpty).")
        }
        // Far over any message limit: not even stored (the guard stores a message over its limit, refused, up to this).
        guard content.count <= 60_000 else {
            throw APIError(
                .contentTooLarge, code: "too_large",
                message: "Your message has \(content.count) characters, more than Sluice keeps in one message. Attach long text as a file instead (📎).")
        }
        let temperature = try body.optionalNumber("temperature", in: 0...1)
        let model = try body.optionalString("model", maxLength: 200).flatMap { $0.isEmpty ? nil : $0 } ?? conversation.model
        try ModelAccess.check(user, model: model)
        try launcher.checkCapacity(model: model)
        return (content, temperature, model)
    }

    /// Starts a generation in the hub and answers with its event stream, `meta` first.
    static func startStreaming(
        _ plan: ChatTurn.Plan, meta: TurnEvent, turn: ChatTurn, hub: GenerationHub, executor: (any TaskExecutor)?
    ) -> Response {
        let (generation, follower) = hub.start(turn, plan: plan, on: executor)
        return respond(meta: meta, generation: generation, events: follower, settings: turn.settings, executor: executor)
    }

    /// The event stream of a started generation, `meta` first; with `stopOnDisconnect` a client that leaves
    /// stops it.
    static func respond(
        meta: TurnEvent, generation: LiveGeneration, events: EventFeed, settings: TurnSettings,
        executor: (any TaskExecutor)?
    ) -> Response {
        let stopOnDisconnect = settings.stopOnDisconnect
        return TurnStreamResponse.make(
            prefix: [meta], events: events, pingInterval: settings.pingInterval, executor: executor,
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
        if let live = hub.generation(message.id) {
            return TurnStreamResponse.make(
                prefix: [], events: live.follow(after: after), pingInterval: turn.settings.pingInterval,
                executor: context.executor)
        }
        let replay = StoredReplay.events(messageID: message.id, after: after, store: store, drain: hub.drain)
        return TurnStreamResponse.make(
            prefix: [], events: replay, pingInterval: turn.settings.pingInterval, executor: context.executor)
    }

    @Sendable func cancel(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let (message, _) = try await Ownership(store: store).message(try context.parameters.require("id"), for: try context.requireUser())
        // Running here, or — on several instances — being written by another, which hears of it within moments.
        var stopping = hub.cancel(message.id)
        if !stopping, message.status == .streaming { stopping = try await store.requestStop(messageID: message.id) }
        guard stopping else {
            throw APIError(
                .conflict, code: "not_running",
                message: "This answer is not being generated any more (its status is \(message.status.rawValue)).")
        }
        return Response(
            status: .accepted, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: "{\"id\":\(JSONText.quote(message.id)),\"status\":\"cancelling\"}")))
    }

    /// The title a conversation takes from its first question (`TurnLauncher`): `title(from:)`, or "An image" /
    /// "Images" for a question of pictures alone.
    static func title(question content: String, images: Int) -> String {
        let title = title(from: content)
        return title.isEmpty && images > 0 ? (images == 1 ? "An image" : "Images") : title
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
        for message in history where ContextBuilder.isSendable(message) {
            messages.append(message.chatMessage)
        }
        if let newMessage { messages.append(ChatMessage(role: .user, content: newMessage)) }
        return messages
    }
}
