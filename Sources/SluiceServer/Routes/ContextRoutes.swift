import Foundation
import Hummingbird
import SluiceCore

/// The user's control over what of a conversation the model sees:
/// `GET /api/conversations/{id}/context`, `POST /api/conversations/{id}/summarize` and
/// `POST /api/messages/{id}/exclude`, `/include`, `/pin`.
struct ContextRoutes {
    let store: any ConversationStore
    let builder: ContextBuilder

    func register(on api: RouterGroup<SluiceRequestContext>) {
        api.get("conversations/:id/context", use: show)
        api.post("conversations/:id/summarize", use: summarize)
        api.post("messages/:id/exclude") { try await setMode(.excluded, $0, $1) }
        api.post("messages/:id/include") { try await setMode(.auto, $0, $1) }
        api.post("messages/:id/pin") { try await setMode(.pinned, $0, $1) }
    }

    @Sendable func show(_ request: Request, context: SluiceRequestContext) async throws -> ContextView {
        let conversation = try await Ownership(store: store).conversation(try context.parameters.require("id"), for: try context.requireUser())
        return try await view(conversation, foldedNow: 0, context: context)
    }

    /// Folds everything but the last `keep_last` messages (default 4) into the summary now.
    @Sendable func summarize(_ request: Request, context: SluiceRequestContext) async throws -> ContextView {
        let conversation = try await Ownership(store: store).conversation(try context.parameters.require("id"), for: try context.requireUser())
        let body = try await JSONObjectBody(request: request, context: context, allowEmpty: true)
        let keepLast = Int(try body.optionalNumber("keep_last", in: 0...1000) ?? 4)
        guard let summarizer = builder.summarizer else {
            throw APIError(
                .conflict, code: "summarizer_unavailable",
                message: "This server has no summariser model configured, so it cannot summarise. Exclude older messages instead.")
        }
        let history = try await store.messages(conversationID: conversation.id)
        var summary = try await store.summary(conversationID: conversation.id)
        let covered = Set(summary?.coveredMessageIDs ?? [])
        let foldable = history.filter { ContextBuilder.isSendable($0) && $0.contextMode == .auto && !covered.contains($0.id) }
        let fold = Array(foldable.dropLast(keepLast))
        if !fold.isEmpty {
            let text: String
            do {
                text = try await summarizer.summarize(
                    previous: summary?.text, messages: fold.map { ChatMessage(role: $0.role, content: $0.chatMessage.content) })
            } catch {
                context.logger.warning("could not summarise on request", metadata: ["error": "\(error)"])
                throw APIError(
                    .badGateway, code: "summarizer_failed",
                    message: "The summariser model did not answer, so nothing was summarised. Try again in a moment.")
            }
            summary = ConversationSummary(
                text: text, coveredMessageIDs: (summary?.coveredMessageIDs ?? []) + fold.map(\.id), model: nil, updatedAt: Date())
            try await store.saveSummary(conversationID: conversation.id, summary: summary!)
            builder.metrics.summarised(messages: fold.count)
        }
        return try await view(conversation, foldedNow: fold.count, context: context)
    }

    @Sendable func setMode(_ mode: ContextMode, _ request: Request, _ context: SluiceRequestContext) async throws -> Response {
        let (message, _) = try await Ownership(store: store).message(try context.parameters.require("id"), for: try context.requireUser())
        try await store.setContextMode(messageID: message.id, mode: mode)
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: "{\"id\":\(JSONText.quote(message.id)),\"mode\":\"\(mode.rawValue)\"}")))
    }

    private func view(_ conversation: Conversation, foldedNow: Int, context: SluiceRequestContext) async throws -> ContextView {
        let history = try await store.messages(conversationID: conversation.id).filter { !$0.superseded }
        let built: ContextBuilder.Built?
        var overflow: ContextOverflow?
        do {
            let personal = try await InstructionsRoute.personalized(
                conversation, for: try context.requireUser(), store: store, catalog: builder.catalog)
            built = try await builder.build(
                conversation: personal, history: history, tail: [], model: conversation.model, fold: false, logger: context.logger)
        } catch let error as ContextOverflow {
            built = nil
            overflow = error
        }
        let plan = built?.plan
        var messages: [ContextView.Entry] = []
        for message in history {
            let state: String
            if !ContextBuilder.isSendable(message) {
                state = "not_sent"
            } else if let plan {
                state = plan.states[message.id]?.rawValue ?? ContextState.inContext.rawValue
            } else if message.contextMode == .excluded {
                state = ContextState.excluded.rawValue
            } else if message.contextMode == .auto, built?.summary?.coveredMessageIDs.contains(message.id) == true {
                state = ContextState.summarised.rawValue
            } else {
                state = overflow == nil ? ContextState.inContext.rawValue : ContextState.outOfWindow.rawValue
            }
            let tokens = builder.counter == nil ? nil : try? await builder.counter?.textTokens(message.content)
            messages.append(ContextView.Entry(
                id: message.id, role: message.role, status: message.status, mode: message.contextMode, state: state,
                tokens: tokens, preview: String(message.content.prefix(120))))
        }
        let summary = built?.summary
        let summaryTokens = await summary.asyncMap { try? await builder.counter?.textTokens($0.text) } ?? nil
        func count(_ state: ContextState) -> Int { messages.filter { $0.state == state.rawValue }.count }
        return ContextView(
            conversationID: conversation.id, model: conversation.model, contextWindow: built?.contextWindow,
            inputBudget: plan?.inputBudget ?? overflow?.inputBudget, outputReserve: builder.outputReserve,
            maxRecentMessages: builder.settings.rule(for: conversation.model).maxRecentMessages, inputTokens: plan?.inputTokens,
            summary: summary.map {
                ContextView.SummaryView(
                    text: $0.text, tokens: summaryTokens, messages: $0.coveredMessageIDs.count, updatedAt: $0.updatedAt,
                    included: plan?.summaryIncluded ?? false)
            },
            messages: messages,
            totals: .init(
                inContext: count(.inContext), summarised: count(.summarised), excluded: count(.excluded),
                outOfWindow: count(.outOfWindow)),
            summarisedNow: foldedNow)
    }
}

/// `GET /api/conversations/{id}/context`: every message with its tokens and where it stands.
struct ContextView: ResponseEncodable {
    struct Entry: Encodable {
        let id: String
        let role: MessageRole
        let status: MessageStatus
        /// What the user chose: auto, pinned, excluded.
        let mode: ContextMode
        /// What the next request does with it: in_context, summarised, excluded, out_of_window, not_sent.
        let state: String
        let tokens: Int?
        let preview: String
    }

    struct SummaryView: Encodable {
        let text: String
        let tokens: Int?
        /// How many messages it stands for.
        let messages: Int
        let updatedAt: Date
        /// Whether the next request sends it (it is left out when it does not fit).
        let included: Bool
    }

    struct Totals: Encodable {
        let inContext: Int
        let summarised: Int
        let excluded: Int
        let outOfWindow: Int
    }

    let conversationID: String
    let model: String
    let contextWindow: Int?
    let inputBudget: Int?
    let outputReserve: Int
    let maxRecentMessages: Int
    /// The request's input tokens before a new message: system prompt, summary and messages in context.
    let inputTokens: Int?
    let summary: SummaryView?
    let messages: [Entry]
    let totals: Totals
    let summarisedNow: Int
}
