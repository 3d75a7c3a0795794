import Foundation
import Hummingbird
import SluiceCore

/// `/api/projects`: the caller's projects (ChatGPT's Projects, Open WebUI's folders) — a name, and instructions and
/// files (`ProjectFileRoutes`) sent with every turn of each conversation in the project
/// (`InstructionsRoute.personalized`). `GET` lists them (most recently changed first), `POST`
/// `{"name", "instructions"?}` makes one (201), `GET /{id}` reads one with its files, `PATCH /{id}` changes either
/// field, `DELETE /{id}` removes it with its files and keeps its conversations (204). A conversation joins one with
/// `project_id` on `POST /api/conversations` or `PATCH /api/conversations/{id}`. Another user's project is 403, an
/// unknown one 404.
struct ProjectRoutes {
    let store: any ConversationStore
    static let maxNameLength = 100

    func register(on api: RouterGroup<SluiceRequestContext>) {
        api.get("projects", use: list)
        api.post("projects", use: create)
        api.get("projects/:id", use: show)
        api.patch("projects/:id", use: update)
        api.delete("projects/:id", use: delete)
    }

    @Sendable func list(_ request: Request, context: SluiceRequestContext) async throws -> ProjectList {
        let user = try context.requireUser()
        async let counts = store.projectConversationCounts(userID: user.id)
        let projects = try await store.projects(userID: user.id)
        let held = try await counts
        return ProjectList(projects: projects.map { project in
            var resource = ProjectResource(project)
            resource.conversationCount = held[project.id] ?? 0
            return resource
        })
    }

    @Sendable func create(_ request: Request, context: SluiceRequestContext) async throws -> EditedResponse<ProjectResource> {
        let user = try context.requireUser()
        let fields = try await Self.fields(request, context: context)
        guard let name = fields.name else {
            throw APIError.invalid("Send {\"name\": \"…\"} (and \"instructions\" if the project has any): a project needs a name.")
        }
        let project = Project.starting(userID: user.id, name: name, instructions: fields.instructions ?? nil)
        try await store.createProject(project)
        return EditedResponse(status: .created, response: ProjectResource(project))
    }

    /// The project with its files (names and sizes; `GET …/files/{id}` reads one's text).
    @Sendable func show(_ request: Request, context: SluiceRequestContext) async throws -> ProjectResource {
        let project = try await owned(context)
        var resource = ProjectResource(project)
        resource.files = try await store.projectFiles(projectID: project.id).map { ProjectFileResource($0, withText: false) }
        return resource
    }

    @Sendable func update(_ request: Request, context: SluiceRequestContext) async throws -> ProjectResource {
        var project = try await owned(context)
        let fields = try await Self.fields(request, context: context)
        guard fields.name != nil || fields.instructions != nil else {
            throw APIError.invalid("Send 'name' to rename the project or 'instructions' to change what it tells the model (\"\" removes them).")
        }
        if let name = fields.name { project.name = name }
        if let instructions = fields.instructions { project.instructions = instructions }
        project.updatedAt = Date.nowToTheMillisecond
        try await store.updateProject(project)
        return ProjectResource(project)
    }

    @Sendable func delete(_ request: Request, context: SluiceRequestContext) async throws -> HTTPResponse.Status {
        try await store.deleteProject(id: try await owned(context).id)
        return .noContent
    }

    private func owned(_ context: SluiceRequestContext) async throws -> Project {
        try await Ownership(store: store).project(try context.parameters.require("id"), for: try context.requireUser())
    }

    /// A body's `name` (trimmed, not empty) and `instructions` (`.some(nil)` when sent as `""`, blank or `null`: none);
    /// any other field is a 400, so that a misspelt one is not silently dropped.
    static func fields(_ request: Request, context: SluiceRequestContext) async throws -> (name: String?, instructions: String??) {
        let body = try await JSONObjectBody(request: request, context: context, allowEmpty: false)
        try body.rejectingUnknownFields(["name", "instructions"]) { "'\($0)' is not a field of a project: send 'name' and 'instructions'." }
        var name: String?
        if body.fields["name"] != nil {
            let trimmed = try body.optionalString("name", maxLength: maxNameLength)?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            guard !trimmed.isEmpty else { throw APIError.invalid("'name' must not be empty: type a name for the project.") }
            name = trimmed
        }
        var instructions: String??
        if body.fields["instructions"] != nil {
            let text = try body.optionalString("instructions", maxLength: InstructionsRoute.maxCharacters)
            instructions = .some(text?.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty == false ? text : nil)
        }
        return (name, instructions)
    }
}

/// A project as the API returns it; `instructions` is `null` when it has none; `files` when it is read alone.
struct ProjectResource: ResponseEncodable {
    let id: String
    let name: String
    @ExplicitNull var instructions: String?
    let createdAt: Date
    let updatedAt: Date
    var files: [ProjectFileResource]?
    /// How many conversations the list shows in it (not archived ones): in the list of projects only.
    var conversationCount: Int?

    init(_ project: Project) {
        id = project.id
        name = project.name
        instructions = project.instructions
        createdAt = project.createdAt
        updatedAt = project.updatedAt
    }
}

struct ProjectList: ResponseEncodable {
    let projects: [ProjectResource]
}
