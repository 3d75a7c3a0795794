import Hummingbird
import SluiceCore

/// `GET /api/me/instructions` → `{"instructions": "…" | null}` and `PUT /api/me/instructions` `{"instructions": "…"}`
/// (`""` or `null` removes them): the user's instructions for all their conversations — ChatGPT's custom
/// instructions, Open WebUI's system prompt in its settings. Every turn of the web app sends them before the
/// conversation's own system prompt (`Conversation.personalized(by:)`), counted in the window, the estimate and the
/// budget hold like the rest of the prompt; the gateway's calls, which bring their own system prompt, are left as
/// the caller sent them.
struct InstructionsRoute {
    let store: any ConversationStore
    /// As long as a conversation's own system prompt may be.
    static let maxCharacters = 32_000

    func register(on api: RouterGroup<SluiceRequestContext>) {
        api.get("me/instructions", use: show)
        api.put("me/instructions", use: update)
    }

    @Sendable func show(_ request: Request, context: SluiceRequestContext) async throws -> UserInstructions {
        UserInstructions(instructions: try await store.userInstructions(userID: try context.requireUser().id))
    }

    @Sendable func update(_ request: Request, context: SluiceRequestContext) async throws -> UserInstructions {
        let user = try context.requireUser()
        let body = try await JSONObjectBody(request: request, context: context, allowEmpty: false)
        guard body.fields.keys.contains("instructions") else {
            throw APIError.invalid("Send {\"instructions\": \"…\"}: the instructions for all your conversations (\"\" removes them).")
        }
        let text = try body.optionalString("instructions", maxLength: Self.maxCharacters)
        let kept = text?.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty == false ? text : nil
        try await store.setUserInstructions(userID: user.id, instructions: kept)
        return UserInstructions(instructions: kept)
    }

    /// `conversation` as the user's web turns send it: with the user's instructions and saved memories
    /// (`memoryPrompt`), then its project's instructions
    /// and files (`Project.prompt`), before its own system prompt. Files too long for a quarter of `model`'s window
    /// (`projectFileBudget`) are sent as the excerpts that best match `question` — the files' beginnings without one;
    /// `history`'s last question before it counts half (a follow-up says little by itself).
    static func personalized(
        _ conversation: Conversation, for user: User, store: any ConversationStore, catalog: ModelCatalog,
        model: String? = nil, question: String? = nil, history: some BidirectionalCollection<Message> = [Message]()
    ) async throws -> Conversation {
        var project: ProjectPrompt?
        if let projectID = conversation.projectID, let found = try await store.project(id: projectID) {
            project = ProjectPrompt(
                instructions: found.instructions, files: try await store.projectFiles(projectID: found.id), question: question,
                earlier: history.last { $0.role == .user && !$0.superseded }?.content,
                budget: Self.projectFileBudget(window: catalog.contextWindow(for: model ?? conversation.model)),
                index: ProjectIndexCache.shared.index(for:))
        }
        let memories = try await memoryPrompt(
            for: conversation, user: user, store: store, window: catalog.contextWindow(for: model ?? conversation.model),
            question: question)
        let instructions = [try await store.userInstructions(userID: user.id), memories].compactMap { $0 }
        return conversation.personalized(by: instructions.isEmpty ? nil : instructions.joined(separator: "\n\n"), projectPrompt: project)
    }

    /// The user's saved memories as the system prompt carries them (`MemoryPrompt`), as many as fit in
    /// `memoryBudget`; `nil` when they have none, turned memory off, or `conversation` is a temporary chat (which, as
    /// ChatGPT's, neither reads nor saves memories). One read, of only the newest contents that fit, while they all
    /// fit; when they do not, every memory is read and those that best match `question` go first (then the newest).
    static func memoryPrompt(
        for conversation: Conversation, user: User, store: any ConversationStore, window: Int?, question: String? = nil
    ) async throws -> String? {
        let budget = memoryBudget(window: window)
        let newest = try await store.promptMemories(
            userID: user.id, conversationID: conversation.id, characters: budget - MemoryPrompt.heading.count)
        guard newest.more else { return MemoryPrompt.text(newest.newest, budget: budget) }
        return MemoryPrompt.text(try await store.memories(userID: user.id).map(\.content), budget: budget, question: question)
    }
}

extension InstructionsRoute {
    /// The most characters of project files a turn sends whole: a quarter of the model's window, at 3 characters a
    /// token (English runs near 4, code nearer 3); beyond it, excerpts of that size. No limit when the window is unknown.
    static func projectFileBudget(window: Int?) -> Int? {
        window.map { $0 / 4 * 3 }
    }

    /// The most characters of saved memories a turn sends: an eighth of the model's window at 3 characters a token,
    /// and never more than 6 000 (about 1 500 tokens, on every turn) however large the window.
    static func memoryBudget(window: Int?) -> Int {
        min(window.map { $0 / 8 * 3 } ?? maxMemoryCharacters, maxMemoryCharacters)
    }

    static let maxMemoryCharacters = 6_000
}

struct UserInstructions: ResponseEncodable {
    /// Encoded as `null` when there are none, so that the web app can tell "none" from a missing field.
    @ExplicitNull var instructions: String?
}
