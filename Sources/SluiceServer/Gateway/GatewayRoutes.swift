import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SluiceCore

/// The OpenAI-compatible gateway: `POST /v1/chat/completions` (streamed or not) and `GET /v1/models[/{model}]`, for any
/// OpenAI SDK or tool, authenticated with a Sluice user's token. Each call is a chat turn like the web app's —
/// prompt guard, context handling, budget hold, retries, fallbacks, accounting — stored as a conversation, so
/// its usage and cost count for the user and its answer survives the caller
/// (`GET /api/messages/{X-Sluice-Message-Id}`). A call whose history is how one of the user's conversations ended
/// continues that conversation (`ThreadKey`); any other call starts a new one.
struct GatewayRoutes {
    let store: any ConversationStore
    let launcher: TurnLauncher
    let defaultModel: String
    /// The model names `GET /v1/models` lists.
    let models: [String]
    /// Other names a call may ask for them by; `GET /v1/models` lists the exact ones that are not hidden.
    var aliases = ModelAliases()

    /// The served model a call asking for `name` gets (`name` itself unless it is an alias), or the user's default.
    func model(named name: String?, for user: User) -> String {
        name.map(aliases.resolve) ?? user.defaultModel(defaultModel)
    }

    /// The largest request body: unlike the web API, which receives one message, an OpenAI client sends the whole
    /// conversation every time, images included (base64 in data URLs). 32 MiB holds a 20 MB image, OpenAI's largest,
    /// or about eight million tokens of text, more than any context window.
    static let maxRequestBytes = 32 << 20

    /// What a whole answer cost in USD, an exact decimal (when the model's price is known).
    static let responseCost = HTTPField.Name("X-Sluice-Response-Cost")!

    /// Sets `X-Sluice-Response-Cost` to what a call cost; nothing for a model without a price.
    static func tell(_ cost: USDAmount?, in headers: inout HTTPFields) {
        tell(cost?.decimalString, in: &headers)
    }

    /// The same for a whole answer's `done` (`TurnEvent.Done.costUSD`, already an exact decimal).
    static func tell(_ cost: String?, in headers: inout HTTPFields) {
        if let cost { headers[responseCost] = cost }
    }

    func register(on v1: RouterGroup<SluiceRequestContext>) {
        v1.post("chat/completions", use: complete)
        v1.get("models", use: listModels)
        v1.get("models/**", use: retrieveModel)
    }

    /// The served models the user may use, then the aliases of those models (as LiteLLM lists its aliases: a client
    /// with a model picker offers the names it knows), in a list both OpenAI's and Anthropic's SDKs read
    /// (`has_more`, `first_id` and `last_id` are Anthropic's page).
    @Sendable func listModels(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let names = models.filter(user.mayUse) + aliases.listed.filter { models.contains($0.model) && user.mayUse($0.model) }.map(\.name)
        let data = names.map(Self.modelObject).joined(separator: ",")
        let quoted = { (name: String?) in name.map(JSONText.quote) ?? "null" }
        return Self.json(
            .ok,
            "{\"object\":\"list\",\"data\":[\(data)],\"has_more\":false,\"first_id\":\(quoted(names.first)),\"last_id\":\(quoted(names.last))}")
    }

    /// `GET /v1/models/{model}` (the SDKs' `models.retrieve`): one of the listed models, else OpenAI's 404.
    @Sendable func retrieveModel(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try context.requireUser()
        // The rest of the path: names such as `openai/gpt-4o` have slashes (sent as they are, or percent-encoded).
        let path = context.parameters.getCatchAll().joined(separator: "/")
        let name = path.removingPercentEncoding ?? path
        // An alias is found under the name asked for, as a client that checks its model before using it expects.
        let model = aliases.resolve(name)
        // As OpenAI answers for a model the key may not use: not found, and the message says both.
        guard models.contains(model), user.mayUse(model) else {
            var error = APIError(
                .notFound, code: "model_not_found",
                message: "The model '\(name)' does not exist on this Sluice, or your account may not use it. "
                    + "GET /v1/models lists the ones you can use.")
            error.anthropicShape = request.headers[HTTPField.Name("anthropic-version")!] != nil
            throw error
        }
        return Self.json(.ok, Self.modelObject(name))
    }

    /// A model object with OpenAI's fields (`object`, `created`, `owned_by`) and Anthropic's (`type`,
    /// `display_name`, `created_at`), so that either SDK's `models.list` and `models.retrieve` read it.
    static func modelObject(_ name: String) -> String {
        "{\"id\":\(JSONText.quote(name)),\"object\":\"model\",\"created\":0,\"owned_by\":\"sluice\",\"type\":\"model\","
            + "\"display_name\":\(JSONText.quote(name)),\"created_at\":\"1970-01-01T00:00:00Z\"}"
    }

    @Sendable func complete(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let body = try await Self.body(of: request)
        let call = try ChatCompletionRequest(json: Data(body.readableBytesView))
        if call.call.answers > 1 { return try await completeMany(call, request: request, context: context) }
        var turn = try await start(call.call, request: request, context: context)
        let started = turn.started
        let envelope = OpenAIWire.Envelope(
            id: "chatcmpl-" + started.assistantMessageID, created: Int(turn.now.timeIntervalSince1970), model: turn.model)
        var headers = turn.headers
        let first = turn.first
        guard call.stream else {
            return try await Self.whole(
                first: first!, rest: &turn.rest, envelope: envelope, withLogprobs: call.call.sampling.logprobs != nil, headers: headers)
        }
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        let events = started.events
        let generation = started.generation
        let stopOnDisconnect = launcher.turn.settings.stopOnDisconnect
        let includeUsage = call.includeUsage
        let withLogprobs = call.call.sampling.logprobs != nil
        let firstEvent = first
        let executor = context.executor
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            // On the connection's event loop, where the generation runs too: a token reaches the socket without
            // crossing threads.
            try await withTaskExecutorPreference(executor) {
                do {
                    try await Self.write(
                        first: firstEvent, rest: events, stream: GatewayStream(envelope: envelope, includeUsage: includeUsage, withLogprobs: withLogprobs),
                        to: &writer)
                } catch {
                    events.stopReading()
                    if stopOnDisconnect { generation.control.stop(.clientDisconnected) }
                    throw error
                }
            }
        })
    }

    /// A gateway call's turn, started and held back until its first token or its end.
    struct Turn {
        let started: TurnLauncher.Started
        let model: String
        let now: Date
        /// The answer's ids, `Server-Timing` and the rate limits' headers.
        let headers: HTTPFields
        /// The first token, call or `done` (a turn that failed first, or ended without an event, was thrown).
        let first: TurnEvent?
        var rest: EventFeed.Iterator
    }

    /// The request's body, up to `maxRequestBytes`.
    static func body(of request: Request) async throws -> ByteBuffer {
        do {
            return try await request.body.collect(upTo: Self.maxRequestBytes)
        } catch is NIOTooManyBytesError {
            throw APIError(
                .contentTooLarge, code: "too_large",
                message: "The request body is over 32 MiB, more than any model's context window holds. Send fewer or shorter messages, or smaller images.")
        }
    }

    /// Starts the call's turn in its conversation and waits for its first token or its end, so that a failure
    /// before any text gets its own HTTP status (429, 503, …), as SDKs expect, rather than an error inside a 200
    /// stream.
    /// `launched` hears of the generation as soon as it runs, before its first token (several answers stop the others
    /// when one fails).
    func start(
        _ call: GatewayCall, request: Request, context: SluiceRequestContext, launched: ((LiveGeneration) -> Void)? = nil
    ) async throws -> Turn {
        // Up to the generation's start in a child task, whose frames the connection's task does not keep while the
        // answer streams (`inChildTask`); the wait for the first token is here, so that the child is gone during it.
        let (started, model, cache, now, conversationID) = try await inChildTask {
            try await launch(call, request: request, context: context)
        }
        launched?(started.generation)
        var iterator = started.events.makeAsyncIterator()
        var first: TurnEvent?
        var cacheHit = false
        while first == nil, let event = await iterator.next() {
            switch event {
            case .token, .toolCall, .logprobs, .reasoning, .signedThinking, .done, .error: first = event
            case .status(let status): cacheHit = cacheHit || status.state == "cached"
            case .meta: continue
            }
        }
        // A failure before any text gets its own status; the routes go on only with an answer under way.
        switch first {
        case .error(let failure)?: throw OpenAIWire.apiError(failure)
        case nil: throw OpenAIWire.endedWithoutResult(partial: false)
        default: break
        }
        var headers: HTTPFields = [
            HTTPField.Name("X-Sluice-Message-Id")!: started.assistantMessageID,
            HTTPField.Name("X-Sluice-Conversation-Id")!: conversationID,
        ]
        if let timing = started.timings.serverTiming { headers[.serverTiming] = timing }
        if cache?.read == true { headers[ResponseCacheUse.header] = cacheHit ? "hit" : "miss" }
        RateLimits.addHeaders(of: [started.rateLimits, started.keyRateLimits].compactMap { $0 }, to: &headers, now: now)
        return Turn(started: started, model: model, now: now, headers: headers, first: first, rest: iterator)
    }

    /// The call's conversation found or made, and its turn started (`TurnLauncher.start`).
    @inline(never)
    private func launch(
        _ call: GatewayCall, request: Request, context: SluiceRequestContext
    ) async throws -> (TurnLauncher.Started, model: String, cache: ResponseCacheUse?, now: Date, conversationID: String) {
        let user = try context.requireUser()
        let tags = try CallTags.of(call, request: request)
        let model = model(named: call.model, for: user)
        try ModelAccess.check(user, model: model)
        try launcher.checkCapacity(model: model)

        let now = Date()
        let (conversation, history, unsaved) = try await conversation(for: call, model: model, user: user, now: now)
        // Where this conversation ends once answered, for the caller's next call: stored with a complete answer,
        // before its end reaches the client (whose next call may follow at once). A turn not kept is no thread, and
        // leaves nothing in the response cache.
        let threadKey = call.keep ? ThreadKey.afterAnswer(
            system: call.system, history: call.history, added: call.added, endUser: call.endUser) : nil
        // Nor does a call that asks for log probabilities use it (a cached answer has none), or for several answers.
        let cache = launcher.turn.responseCache.flatMap { _ in
            call.keep && call.sampling.logprobs == nil && call.answers == 1
                ? ResponseCacheUse(cacheControl: request.headers[.cacheControl], userID: user.id) : nil
        }
        let started = try await launcher.start(
            .init(content: call.content, model: model, temperature: call.temperature, maxTokens: call.maxTokens,
                  sampling: call.sampling, tools: call.tools, toolResults: call.toolResults, prefill: call.prefill, reportsBudget: false,
                  threadKey: threadKey, apiKey: context.apiKey, cache: cache, images: call.images, keep: call.keep,
                  extraAnswer: call.extraAnswer, tags: tags),
            in: conversation, history: history, unsaved: unsaved, user: user, request: request, logger: context.logger,
            executor: context.executor, receivedAt: context.receivedAt)
        return (started, model, cache, now, conversation.id)
    }

    /// Writes a streamed answer as OpenAI chunks, from its first event to its end.
    private static func write(
        first: TurnEvent?, rest events: EventFeed, stream: GatewayStream, to writer: inout any ResponseBodyWriter
    ) async throws {
        var stream = stream
        // The role chunk goes out with the first token: one write, one flush.
        var opening: String? = stream.opening()
        // The same stream continues where the wait for the first event left it, under one cancellation handler
        // for all its reads rather than one per token.
        var next: TurnEvent? = first
        try await events.reading {
            while let event = next {
                let bytes = stream.bytes(for: event)
                if let head = opening.take() {
                    var buffer = ByteBuffer(string: head)
                    if var bytes { buffer.writeBuffer(&bytes) }
                    try await writer.write(buffer)
                } else if let bytes {
                    try await writer.write(bytes)
                }
                if stream.ended { break }
                next = await events.nextWhileReading()
            }
        }
        try await writer.finish(nil)
    }

    /// A non-streamed answer: everything collected, then one `chat.completion`; a failure after some text is an
    /// error too (the partial text is kept in Sluice's store).
    private static func whole(
        first: TurnEvent, rest: inout EventFeed.Iterator, envelope: OpenAIWire.Envelope, withLogprobs: Bool, headers: HTTPFields
    ) async throws -> Response {
        let answer = try await WholeAnswer.collect(first: first, rest: &rest)
        let answered = OpenAIWire.Envelope(id: envelope.id, created: envelope.created, model: answer.done.model)
        var fields = headers
        fields[.contentType] = "application/json"
        // What the call cost, where a client reads it without parsing the body (LiteLLM's `x-litellm-response-cost`);
        // a streamed answer's headers go before its cost is known: its usage chunk carries it.
        tell(answer.done.costUSD, in: &fields)
        return json(
            .ok,
            OpenAIWire.completion(
                answered, content: answer.text, toolCalls: answer.toolCalls, reasoning: answer.reasoning,
                signedThinking: answer.signedThinking,
                logprobs: withLogprobs ? answer.logprobs : nil,
                finishReason: answer.done.finishReason, usage: answer.done.usage, cost: answer.done.costUSD),
            headers: fields)
    }

    /// The conversation a call belongs to. When its history is exactly how one of the user's gateway conversations
    /// ended, that conversation goes on (nothing stored again, and the web app shows one thread); otherwise a new
    /// conversation is made with the history before the new message — `unsaved`: the launcher stores them with
    /// the user's message, in one commit. A call not kept always gets a new conversation.
    private func conversation(
        for call: GatewayCall, model: String, user: User, now: Date
    ) async throws -> (Conversation, [Message], unsaved: Bool) {
        if call.keep, !call.history.isEmpty,
            let continued = try await store.claimThread(
                userID: user.id, threadKey: ThreadKey.of(system: call.system, messages: call.history, endUser: call.endUser))
        {
            let stored = try await store.messages(conversationID: continued.id).filter { !$0.superseded }
            // Changed since it was marked (e.g. in the web app)? Then the caller's history is not this thread.
            let sent = stored.filter(ContextBuilder.isSendable).map(\.chatMessage)
            // Signed thinking aside: a caller may leave it out, and what Sluice kept of it goes back either way.
            if sent.map(\.unthought) == call.history.map(\.unthought) { return (continued, stored, false) }
        }
        let firstQuestion = call.toolResults.isEmpty ? call.content : call.history.first { $0.role == .user }?.content ?? "function results"
        let conversation = Conversation.starting(
            userID: user.id, title: "API: " + MessageRoutes.title(from: firstQuestion), model: model, systemPrompt: call.system,
            endUser: call.endUser)
        // The caller's earlier turns are stored as the conversation's history, just before the new message.
        let history = call.history.enumerated().map { index, turn in
            var message = Message(
                id: Identifier.make(), conversationID: conversation.id, role: turn.role, content: turn.content,
                status: .complete, model: turn.role == .assistant ? model : nil,
                createdAt: now.addingTimeInterval(Double(index - call.history.count) * 0.001),
                toolCalls: turn.toolCalls, toolCallID: turn.toolCallID)
            message.images = turn.images
            message.signedThinking = turn.thinking
            return message
        }
        return (conversation, history, true)
    }

    static func json(_ status: HTTPResponse.Status, _ text: String, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
