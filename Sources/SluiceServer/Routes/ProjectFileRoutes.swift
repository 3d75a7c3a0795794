import Foundation
import Hummingbird
import SluiceCore

/// `/api/projects/{id}/files`: text files kept with a project (ChatGPT's project files) — notes, a style guide, code —
/// sent with every turn of each conversation in it, after its instructions (`Project.prompt`), and so counted and
/// charged on every turn. `POST` `{"name", "text"}` adds one (201), `GET /{fileID}` reads it back, `DELETE /{fileID}`
/// removes it (204). At most `ProjectFile.maxCount` files and `ProjectFile.maxCharacters` characters together.
struct ProjectFileRoutes {
    let store: any ConversationStore

    func register(on api: RouterGroup<SluiceRequestContext>) {
        api.post("projects/:id/files", use: add)
        api.get("projects/:id/files/:file", use: show)
        api.delete("projects/:id/files/:file", use: delete)
    }

    @Sendable func add(_ request: Request, context: SluiceRequestContext) async throws -> EditedResponse<ProjectFileResource> {
        var project = try await owned(context)
        let body = try await JSONObjectBody(request: request, context: context, allowEmpty: false, maxBytes: AttachmentsField.maxBodyBytes)
        guard let name = try body.optionalString("name", maxLength: 255)?.trimmingCharacters(in: .whitespacesAndNewlines), !name.isEmpty,
            let text = try body.optionalString("text", maxLength: ProjectFile.maxCharacters)
        else {
            throw APIError.invalid("Send {\"name\": \"notes.txt\", \"text\": \"…\"}: a file's name (1 to 255 characters) and its text.")
        }
        guard !text.contains("\u{0}") else {
            throw APIError.invalid("The file \(JSONText.quote(name)) is not text (it holds NUL bytes); add text files only: notes, code, logs, CSV, JSON.")
        }
        let files = try await store.projectFiles(projectID: project.id)
        guard files.count < ProjectFile.maxCount else {
            throw APIError(
                .conflict, code: "project_files_full",
                message: "This project already holds \(ProjectFile.maxCount) files, the most it may. Remove one before adding \(JSONText.quote(name)).")
        }
        let characters = files.reduce(text.count) { $0 + $1.text.count }
        guard characters <= ProjectFile.maxCharacters else {
            throw APIError(
                .contentTooLarge, code: "project_files_too_large",
                message: "With \(JSONText.quote(name)) the project's files would have \(characters) characters together; the most is \(ProjectFile.maxCharacters). Add a shorter file, or remove one.")
        }
        let now = Date.nowToTheMillisecond
        let file = ProjectFile(id: Identifier.make(), projectID: project.id, name: name, text: text, createdAt: now)
        try await store.addProjectFile(file)
        project.updatedAt = now
        try await store.updateProject(project)
        return EditedResponse(status: .created, response: ProjectFileResource(file, withText: false))
    }

    @Sendable func show(_ request: Request, context: SluiceRequestContext) async throws -> ProjectFileResource {
        let project = try await owned(context)
        let id = try context.parameters.require("file")
        guard let file = try await store.projectFile(id: id, projectID: project.id) else {
            throw APIError.notFound("file")
        }
        return ProjectFileResource(file, withText: true)
    }

    @Sendable func delete(_ request: Request, context: SluiceRequestContext) async throws -> HTTPResponse.Status {
        var project = try await owned(context)
        guard try await store.deleteProjectFile(id: try context.parameters.require("file"), projectID: project.id) else {
            throw APIError.notFound("file")
        }
        project.updatedAt = Date.nowToTheMillisecond
        try await store.updateProject(project)
        return .noContent
    }

    private func owned(_ context: SluiceRequestContext) async throws -> Project {
        try await Ownership(store: store).project(try context.parameters.require("id"), for: try context.requireUser())
    }
}

/// A project's file as the API returns it: its text only when it is read alone.
struct ProjectFileResource: ResponseEncodable {
    let id: String
    let name: String
    let characters: Int
    let createdAt: Date
    let text: String?

    init(_ file: ProjectFile, withText: Bool) {
        id = file.id
        name = file.name
        characters = file.text.count
        createdAt = file.createdAt
        text = withText ? file.text : nil
    }
}
