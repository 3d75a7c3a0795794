import Foundation
import Hummingbird
import Logging
import SluiceCore
import SluiceGuard

/// `POST /api/conversations/{id}/title`: a model names the conversation from its first question and answer, as
/// ChatGPT and Open WebUI name a chat after its first answer (their web apps ask for it then, as Sluice's does).
///
/// The call is a turn of its own for the ledger: its input and output are held before it goes upstream (a user out of
/// budget keeps the first line as the title, with the usual 429), retried as any call, charged to the conversation,
/// and counted in `sluice_titles_total`. The title replaces the conversation's only while its name is the one it had
/// when the call began: a name the user gave meanwhile stays (409 `renamed`). The model's answer goes through an answer's
/// redactor (credential shapes, the operator's secrets) before a title is taken from it: a question that quoted a
/// key must not put the key in the sidebar, where every glance at the list would show it. The web app's own call after
/// a first answer carries `?automatic=true` and is refused (409 `auto_titles_off`) when the user turned that off.
struct TitleRoute {
    let services: PassThroughServices
    let store: any ConversationStore
    let titleModel: TitleModel
    var redaction = ChatTurn.Redaction()

    func register(on api: RouterGroup<SluiceRequestContext>) {
        api.post("conversations/:id/title", use: write)
    }

    /// The answer: the conversation's new title, the model that wrote it, and what that cost.
    struct Titled: ResponseEncodable {
        let id: String
        let title: String
        let model: String
        let usage: WireUsage
        let costUsd: String?
    }

    @Sendable func write(_ request: Request, context: SluiceRequestContext) async throws -> Titled {
        let user = try context.requireUser()
        let conversation = try await Ownership(store: store).conversation(try context.parameters.require("id"), for: user)
        try Ownership.requireActive(conversation)
        // The web app's own call after a first answer says so: the user may have turned that off (their settings).
        if request.uri.queryParameters.get("automatic") == "true", try await !store.autoTitles(userID: user.id) {
            throw APIError(
                .conflict, code: "auto_titles_off",
                message: "You turned automatic titles off (Personalize). Rename the conversation yourself, or ask for a title with ✨.")
        }
        guard let model = titleModel.model(for: conversation.model) else {
            throw APIError(
                .conflict, code: "titles_off",
                message: "This server does not write titles (its operator turned them off with --title-model off). Rename the conversation yourself.")
        }
        let shown = try await store.messages(conversationID: conversation.id).filter(ContextBuilder.isSendable)
        guard let questionIndex = shown.firstIndex(where: { $0.role == .user && !$0.content.isEmpty }) else {
            throw APIError(
                .conflict, code: "nothing_to_title",
                message: "This conversation has no question to name it by yet. Send a message first.")
        }
        let answer = shown[(questionIndex + 1)...].first { $0.role == .assistant && !$0.content.isEmpty }
        let catalog = services.catalog
        var call = TitlePrompt.request(
            model: model, question: shown[questionIndex].content, answer: answer?.content,
            prefill: catalog.continuesPrefill(model) == true,
            // A reasoning model takes no temperature; any other writes the same title for the same chat.
            temperature: catalog.reasons(model) == true ? nil : 0)
        call.extraHeaders = services.scenarioHeaders(request)
        let held = try await services.budget.hold(
            call, inputTokens: nil, user: user, conversationID: conversation.id, messageID: Identifier.make(),
            apiKey: context.apiKey)
        let settlement = TitleSettlement(
            services: services, hold: held.hold, counted: held.inputTokens, price: catalog.price(for: model) ?? .free,
            model: model)
        let reply: (text: String, usage: Usage?)
        do {
            reply = try await services.retries.run(refused: { status, message in
                APIError(
                    .badGateway, code: "upstream_refused",
                    message: "The model '\(model)' refused to write a title (\(status): \(message.prefix(200))). The conversation keeps its name.")
            }) { [provider = services.provider, request = held.request] in
                var text = ""
                var usage: Usage?
                for try await event in provider.streamChat(request) {
                    switch event {
                    case .delta(let piece): text += piece
                    case .usage(let reported): usage = reported
                    default: break
                    }
                }
                return (text, usage)
            }
        } catch {
            await settlement.settle(text: "", usage: nil)
            services.metrics.titleWritten(model: model, outcome: "error")
            throw error
        }
        let charged = await settlement.settle(text: reply.text, usage: reply.usage)
        guard let title = TitlePrompt.title(in: redacted(reply.text, logger: context.logger)) else {
            services.metrics.titleWritten(model: model, outcome: "no_title")
            throw APIError(
                .badGateway, code: "no_title",
                message: "The model '\(model)' answered without a title, so the conversation keeps its name. Try again, or rename it yourself.")
        }
        guard try await store.retitleConversation(id: conversation.id, from: conversation.title, to: title) else {
            services.metrics.titleWritten(model: model, outcome: "renamed")
            throw APIError(
                .conflict, code: "renamed",
                message: "The conversation was renamed while its title was being written, so it keeps the new name.")
        }
        services.metrics.titleWritten(model: model, outcome: "titled")
        return Titled(
            id: conversation.id, title: title, model: model,
            usage: WireUsage(charged.usage), costUsd: charged.cost.map(\.decimalString))
    }

    /// The model's whole answer with credentials and secrets replaced by the redactor's marker — before the title is
    /// cut from it, so that a cut cannot leave a key's start too short for its pattern to recognise.
    private func redacted(_ text: String, logger: Logger) -> String {
        guard !redaction.credentials.isEmpty || !redaction.secrets.isEmpty else { return text }
        var redactor = OutputRedactor(systemPrompt: nil, credentials: redaction.credentials, secrets: redaction.secrets)
        let shown = redactor.feed(text) + redactor.finish()
        if !redactor.redactions.isEmpty {
            logger.warning("redacted a title's answer", metadata: ["redactions": "\(redactor.redactions.joined(separator: ","))"])
        }
        return shown
    }
}

/// Settles a title call's hold for what it used: the provider's usage, or Sluice's count of the prompt and of the text
/// that came; a call that produced nothing is released, charged nothing.
struct TitleSettlement: Sendable {
    let services: PassThroughServices
    let hold: BudgetHold?
    let counted: Int?
    let price: ModelPrice
    let model: String

    @discardableResult
    func settle(text: String, usage reported: Usage?) async -> (usage: Usage?, cost: USDAmount?) {
        let produced = reported != nil || !text.isEmpty
        let countedOutput: Int? = produced ? try? await services.counter?.textTokens(text) : 0
        let usage = produced
            ? UsageAccounting.resolve(reported: reported, countedInput: counted, countedOutput: countedOutput).usage
            : nil
        let cost = usage.map { price.cost(of: $0) }
        await services.settle(
            hold, inputTokens: usage?.inputTokens ?? 0, outputTokens: usage?.outputTokens ?? 0,
            cachedInputTokens: usage?.cachedInputTokens ?? 0, cost: cost ?? .zero)
        if let cost, cost > .zero { services.metrics.charged(model: model, cost: cost) }
        return (usage, cost)
    }
}
