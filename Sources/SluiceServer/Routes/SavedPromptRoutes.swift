import Foundation
import Hummingbird
import SluiceCore

/// `/api/prompts`: the prompts the caller keeps to reuse (Open WebUI's and LibreChat's prompt library) — typing `/` in
/// the web app's message box lists them, and picking one puts its text there. `GET` lists them by command, `POST`
/// `{"command", "title", "content"}` keeps one (201; `409 command_taken` when the caller has that command already),
/// `PATCH /{id}` changes any of the three, `DELETE /{id}` removes it (204). Another user's prompt is 403.
struct SavedPromptRoutes {
    let store: any ConversationStore

    func register(on api: RouterGroup<SluiceRequestContext>) {
        api.get("prompts", use: list)
        api.post("prompts", use: create)
        api.patch("prompts/:id", use: update)
        api.delete("prompts/:id", use: delete)
    }

    @Sendable func list(_ request: Request, context: SluiceRequestContext) async throws -> SavedPromptList {
        SavedPromptList(prompts: try await store.savedPrompts(userID: try context.requireUser().id).map(SavedPromptResource.init))
    }

    @Sendable func create(_ request: Request, context: SluiceRequestContext) async throws -> EditedResponse<SavedPromptResource> {
        let user = try context.requireUser()
        let fields = try await Self.fields(request, context: context)
        guard let command = fields.command, let title = fields.title, let content = fields.content else {
            throw APIError.invalid(
                "Send {\"command\": \"summarize\", \"title\": \"Summarise\", \"content\": \"Summarise this in three points: {{text}}\"}: all three are needed.")
        }
        let now = Date.nowToTheMillisecond
        let prompt = SavedPrompt(
            id: Identifier.make(), userID: user.id, command: command, title: title, content: content, createdAt: now, updatedAt: now)
        try await Self.taken(command) { try await store.addSavedPrompt(prompt) }
        return EditedResponse(status: .created, response: SavedPromptResource(prompt))
    }

    @Sendable func update(_ request: Request, context: SluiceRequestContext) async throws -> SavedPromptResource {
        var prompt = try await owned(context)
        let fields = try await Self.fields(request, context: context)
        guard fields.command != nil || fields.title != nil || fields.content != nil else {
            throw APIError.invalid("Send 'command', 'title' or 'content': what to change.")
        }
        prompt.command = fields.command ?? prompt.command
        prompt.title = fields.title ?? prompt.title
        prompt.content = fields.content ?? prompt.content
        prompt.updatedAt = Date.nowToTheMillisecond
        try await Self.taken(prompt.command) { [prompt] in try await store.updateSavedPrompt(prompt) }
        return SavedPromptResource(prompt)
    }

    @Sendable func delete(_ request: Request, context: SluiceRequestContext) async throws -> HTTPResponse.Status {
        try await store.deleteSavedPrompt(id: try await owned(context).id)
        return .noContent
    }

    /// The prompt the path names: 404 when there is none, 403 when it is another user's.
    private func owned(_ context: SluiceRequestContext) async throws -> SavedPrompt {
        try await Ownership(store: store).savedPrompt(try context.parameters.require("id"), for: try context.requireUser())
    }

    /// Runs `write`, turning the store's conflict into a `409 command_taken` that names the command.
    private static func taken(_ command: String, _ write: () async throws -> Void) async throws {
        do {
            try await write()
        } catch StoreError.conflict {
            throw APIError(
                .conflict, code: "command_taken",
                message: "You already have a prompt /\(command). Choose another command, or change that prompt.")
        }
    }

    /// The body's fields, each checked when present: a command (`SavedPrompt.command`), a title and a text that are
    /// not blank. Any other field is a 400.
    static func fields(_ request: Request, context: SluiceRequestContext) async throws -> (command: String?, title: String?, content: String?) {
        let body = try await JSONObjectBody(request: request, context: context, allowEmpty: false)
        try body.rejectingUnknownFields(["command", "title", "content"]) {
            "'\($0)' is not a field of a prompt: send 'command', 'title' and 'content'."
        }
        var command: String?
        if let text = try body.optionalString("command", maxLength: SavedPrompt.maxCommandLength + 1) {
            guard let valid = SavedPrompt.command(text) else {
                throw APIError.invalid(
                    "'command' must be 1 to \(SavedPrompt.maxCommandLength) letters (a–z), digits, '-' or '_', starting with a letter or digit, for example \"summarize\".")
            }
            command = valid
        }
        let title = try body.optionalString("title", maxLength: SavedPrompt.maxTitleLength)?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let title, title.isEmpty { throw APIError.invalid("'title' must not be empty: say what the prompt is for.") }
        let content = try body.optionalString("content", maxLength: SavedPrompt.maxContentLength)
        if let content, content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw APIError.invalid("'content' must not be empty: it is the text the prompt puts in the message box.")
        }
        return (command, title, content)
    }
}

struct SavedPromptResource: ResponseEncodable {
    let id: String
    let command: String
    let title: String
    let content: String
    let createdAt: Date
    let updatedAt: Date

    init(_ prompt: SavedPrompt) {
        id = prompt.id
        command = prompt.command
        title = prompt.title
        content = prompt.content
        createdAt = prompt.createdAt
        updatedAt = prompt.updatedAt
    }
}

struct SavedPromptList: ResponseEncodable {
    let prompts: [SavedPromptResource]
}
