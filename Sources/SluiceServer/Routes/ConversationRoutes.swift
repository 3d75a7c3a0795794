import Foundation
import Hummingbird
import SluiceCore

/// `/api/conversations`: create, list, read and delete the caller's conversations.
struct ConversationRoutes {
    let store: any ConversationStore
    let defaultModel: String
    let meter: ContextMeter
    /// The server's output limit (`TurnSettings.maxOutputTokens`), and what a turn holds for its answer without one.
    let maxOutputTokens: Int?
    let defaultOutputReserve: Int
    /// The title of a conversation created without one; the first message replaces it.
    static let defaultTitle = "New conversation"

    func register(on api: RouterGroup<SluiceRequestContext>) {
        api.post("conversations", use: create)
        api.get("conversations", use: list)
        api.get("conversations/:id", use: show)
        api.delete("conversations/:id", use: delete)
        api.patch("conversations/:id", use: update)
        api.post("conversations/:id/estimate", use: estimate)
    }

    @Sendable func create(_ request: Request, context: SluiceRequestContext) async throws -> EditedResponse<ConversationResource> {
        let user = try context.requireUser()
        let body = try await JSONObjectBody(request: request, context: context, allowEmpty: true)
        let title = try body.optionalString("title", maxLength: 200)?.trimmingCharacters(in: .whitespacesAndNewlines)
        let model = try body.optionalString("model", maxLength: 200)?.trimmingCharacters(in: .whitespacesAndNewlines)
        let systemPrompt = try body.optionalString("system_prompt", maxLength: 32_000)
        let temporary = try body.optionalBool("temporary") ?? false
        let parameters = try ConversationParametersField.parse(body.fields["parameters"])
        let project = try await body.optionalString("project_id", maxLength: 100).asyncMap {
            try await Ownership(store: store).project($0, for: user)
        }
        let chosenModel = model.flatMap { $0.isEmpty ? nil : $0 } ?? user.defaultModel(defaultModel)
        try ModelAccess.check(user, model: chosenModel)
        var conversation = try await store.createConversation(
            userID: user.id, title: title.flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultTitle,
            model: chosenModel,
            systemPrompt: systemPrompt.flatMap { $0.isEmpty ? nil : $0 })
        if let parameters {
            try await store.setConversationParameters(id: conversation.id, parameters: parameters)
            conversation.parameters = parameters
        }
        var resource = ConversationResource(conversation)
        if let project {
            try await store.moveConversation(id: conversation.id, toProject: project.id)
            resource.projectID = project.id
        }
        if temporary {
            // A temporary chat (ChatGPT's, Open WebUI's): out of the list and search from the start, deleted when the
            // web app leaves it, or once it lapses (an hour without a message: `UnkeptConversationSweeper`).
            do {
                try await store.markUnkept(conversationID: conversation.id, at: conversation.createdAt)
            } catch {
                try? await store.deleteConversation(id: conversation.id)
                throw error
            }
            resource.temporary = true
        }
        return EditedResponse(status: .created, response: resource)
    }

    /// The caller's conversations, pinned ones first, archived ones left out (`?archived=true`: only those), a page at
    /// a time with `?limit=` (`ConversationListQuery`); with `?q=words`, those that have every word (or "quoted
    /// phrase") in their title or messages, in any order (archived ones too, at most 50), each with a `snippet` of the
    /// message that has the most of them.
    @Sendable func list(_ request: Request, context: SluiceRequestContext) async throws -> ConversationList {
        let user = try context.requireUser()
        let query = request.formValue("q")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        guard !query.isEmpty else {
            let listing = try await ConversationListQuery.listing(request.uri.queryParameters, for: user, store: store)
            let page = try await store.conversationPage(userID: user.id, listing: listing)
            return ConversationList(conversations: page.conversations.map { ConversationResource($0) }, nextCursor: page.next?.description)
        }
        guard query.count <= 200 else { throw APIError.invalid("'q' is longer than 200 characters: search for fewer words.") }
        guard let terms = SearchTerms(query) else {
            return ConversationList(
                conversations: try await store.conversations(userID: user.id, archived: false).map { ConversationResource($0) })
        }
        guard terms.terms.count <= SearchTerms.maxCount else {
            throw APIError.invalid("'q' has \(terms.terms.count) words: search for at most \(SearchTerms.maxCount) (a \"quoted phrase\" counts as one).")
        }
        let matches = try await store.searchConversations(userID: user.id, terms: terms, limit: 50)
        return ConversationList(conversations: matches.map { match in
            var resource = ConversationResource(match.conversation)
            resource.snippet = match.message.map { Self.snippet(of: $0, around: terms) }
            return resource
        })
    }

    /// About 160 characters of `text` around the first place it has one of the `terms` (ignoring case and accents), on
    /// one line, with "…" where it was cut.
    static func snippet(of text: String, around terms: SearchTerms, before: Int = 50, after: Int = 110) -> String {
        let line = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        guard let hit = terms.firstHit(in: line) else {
            return line.count > before + after ? String(line.prefix(before + after)) + "…" : line
        }
        let start = line.index(hit.lowerBound, offsetBy: -before, limitedBy: line.startIndex) ?? line.startIndex
        let end = line.index(hit.upperBound, offsetBy: after, limitedBy: line.endIndex) ?? line.endIndex
        return (start > line.startIndex ? "…" : "") + line[start..<end] + (end < line.endIndex ? "…" : "")
    }

    @Sendable func show(_ request: Request, context: SluiceRequestContext) async throws -> ConversationResource {
        let conversation = try await ownedConversation(context)
        let messages = try await store.messages(conversationID: conversation.id)
        // The resource shows the conversation's own system prompt; the figures count what a turn sends.
        let personal = try await InstructionsRoute.personalized(
            conversation, for: try context.requireUser(), store: store, catalog: meter.catalog)
        var resource = ConversationResource(
            conversation, messages: messages, context: await meter.figures(personal, history: messages, logger: context.logger))
        if try await store.isUnkept(conversationID: conversation.id) { resource.temporary = true }
        // Still named by its first question: no model has named it, nor has the user (the web app then asks).
        if let question = messages.first(where: { $0.role == .user }),
            conversation.title == MessageRoutes.title(question: question.content, images: question.images.count)
        {
            resource.titleFromQuestion = true
        }
        // A branch links back to its original while the original is there (and still the same user's).
        if let originalID = conversation.branchedFrom, let original = try await store.conversation(id: originalID),
            original.userID == conversation.userID
        {
            resource.branchedFrom = .init(conversationID: original.id, title: original.title)
        }
        if let link = try await store.sharedLink(conversationID: conversation.id) {
            resource.shared = .init(url: "/share/\(link.token)", sharedAt: link.sharedAt)
        }
        return resource
    }

    /// The exact input tokens the next turn would send (with `model`, when given, instead of the conversation's),
    /// part by part, the output reserve, whether it fits the budget, and how to spend fewer tokens. Nothing is
    /// stored or held.
    @Sendable func estimate(_ request: Request, context: SluiceRequestContext) async throws -> Estimate {
        let user = try context.requireUser()
        var conversation = try await ownedConversation(context)
        let body = try await JSONObjectBody(request: request, context: context, allowEmpty: false, maxBytes: ImagesField.maxBodyBytes)
        let content = try body.optionalString("content", maxLength: 60_000) ?? ""
        let attachments = try AttachmentsField.parse(body)
        let images = try ImagesField.parse(body)
        // The model picked for the next message, when it is not the conversation's: its window and tokenizer.
        if let model = try body.optionalString("model", maxLength: 200), !model.isEmpty {
            try ModelAccess.check(user, model: model)
            conversation.model = model
        }
        let history = try await store.messages(conversationID: conversation.id)
        return try await meter.estimate(
            content, attachments: attachments, images: images,
            conversation: try await InstructionsRoute.personalized(
                conversation, for: user, store: store, catalog: meter.catalog, question: content),
            history: history, user: user,
            outputReserve: outputReserve(for: conversation),
            logger: context.logger)
    }

    /// What a turn of `conversation` holds for its answer, as `TurnBudget` holds it (shown by the estimate): the
    /// conversation's own `max_tokens` within the server's limit, else the limit, else the default reserve.
    func outputReserve(for conversation: Conversation) -> Int {
        guard let wanted = conversation.parameters?.maxTokens else { return maxOutputTokens ?? defaultOutputReserve }
        return maxOutputTokens.map { min(wanted, $0) } ?? wanted
    }

    /// Renames the conversation (`title`), sets or removes (`""` or `null`) its system prompt (`system_prompt`), pins
    /// or unpins it (`pinned`), archives or unarchives it (`archived`; archiving unpins), moves it into one of the
    /// user's projects or out of any (`project_id`: an id or `null`) and replaces its sampling settings (`parameters`,
    /// `ConversationParametersField`; `null` or `{}` removes them); a field left out is left as it is. The next turn
    /// uses the new system prompt, the project's instructions and the new settings.
    @Sendable func update(_ request: Request, context: SluiceRequestContext) async throws -> ConversationResource {
        let conversation = try await ownedConversation(context)
        let body = try await JSONObjectBody(request: request, context: context, allowEmpty: false)
        guard ["title", "system_prompt", "pinned", "archived", "project_id", "parameters"].contains(where: { body.fields[$0] != nil }) else {
            throw APIError.invalid(
                "Send 'title' to rename the conversation, 'system_prompt' to change its instructions, 'pinned' or "
                    + "'archived' (true or false), 'project_id' (a project's id, or null for none), or 'parameters' "
                    + "(its sampling settings, such as {\"temperature\": 0.2}).")
        }
        let parameters = try ConversationParametersField.parse(body.fields["parameters"])
        // Checked before anything changes, so that a project that is not the caller's changes nothing.
        let user = try context.requireUser()
        let project = try await body.optionalString("project_id", maxLength: 100).asyncMap {
            try await Ownership(store: store).project($0, for: user)
        }
        let (pinned, archived) = (try body.optionalBool("pinned"), try body.optionalBool("archived"))
        if pinned == true, archived == true || (archived == nil && conversation.archivedAt != nil) {
            throw APIError.invalid("An archived conversation cannot be pinned: unarchive it first ('archived': false).")
        }
        if body.fields["title"] != nil {
            let title = try body.optionalString("title", maxLength: 200)?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            guard !title.isEmpty else { throw APIError.invalid("'title' must not be empty: type a name for the conversation.") }
            try await store.renameConversation(id: conversation.id, title: title)
        }
        if body.fields["system_prompt"] != nil {
            let systemPrompt = try body.optionalString("system_prompt", maxLength: 32_000)
            let trimmed = systemPrompt?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            try await store.setSystemPrompt(id: conversation.id, systemPrompt: trimmed.isEmpty ? nil : systemPrompt)
        }
        // Pinning or archiving again keeps the first moment (the list's order), as unpinning an unpinned one is nothing.
        if let archived, archived != (conversation.archivedAt != nil) {
            try await store.archiveConversation(id: conversation.id, at: archived ? Date() : nil)
        }
        if let pinned, pinned != (conversation.pinnedAt != nil) {
            try await store.pinConversation(id: conversation.id, at: pinned ? Date() : nil)
        }
        if body.fields["project_id"] != nil, project?.id != conversation.projectID {
            try await store.moveConversation(id: conversation.id, toProject: project?.id)
        }
        if body.fields["parameters"] != nil, parameters != conversation.parameters {
            try await store.setConversationParameters(id: conversation.id, parameters: parameters)
        }
        guard let updated = try await store.conversation(id: conversation.id) else { throw APIError.notFound("conversation") }
        return ConversationResource(updated)
    }

    @Sendable func delete(_ request: Request, context: SluiceRequestContext) async throws -> HTTPResponse.Status {
        let conversation = try await ownedConversation(context)
        try await store.deleteConversation(id: conversation.id)
        return .noContent
    }

    private func ownedConversation(_ context: SluiceRequestContext) async throws -> Conversation {
        try await Ownership(store: store).conversation(try context.parameters.require("id"), for: try context.requireUser())
    }
}
