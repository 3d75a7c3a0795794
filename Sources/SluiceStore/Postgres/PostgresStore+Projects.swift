import Foundation
import PostgresNIO
import SluiceCore

/// A user's projects (`Project`, schema step 45).
extension PostgresStore {
    public func createProject(_ project: Project) async throws {
        try await execute(
            """
            INSERT INTO projects (id, user_id, name, instructions, created_at, updated_at)
            VALUES (\(project.id), \(project.userID), \(project.name), \(project.instructions),
                    \(StoredValues.milliseconds(project.createdAt)), \(StoredValues.milliseconds(project.updatedAt)))
            """, logger: logger)
    }

    public func projects(userID: String) async throws -> [Project] {
        try await rows("SELECT * FROM projects WHERE user_id = \(userID) ORDER BY updated_at DESC, created_at DESC, id")
            .map(StoredValues.project)
    }

    public func projectConversationCounts(userID: String) async throws -> [String: Int] {
        var bindings = PostgresBindings()
        bindings.append(userID)
        let rows = try await rows(PostgresQuery(unsafeSQL: StoredValues.projectConversationCounts(userID: "$1"), binds: bindings))
        return Dictionary(uniqueKeysWithValues: rows.map { ($0.text("project_id"), $0.int("count") ?? 0) })
    }

    public func project(id: String) async throws -> Project? {
        try await rows("SELECT * FROM projects WHERE id = \(id)").first.map(StoredValues.project)
    }

    public func updateProject(_ project: Project) async throws {
        try await execute(
            """
            UPDATE projects SET name = \(project.name), instructions = \(project.instructions),
                updated_at = \(StoredValues.milliseconds(project.updatedAt))
            WHERE id = \(project.id)
            """, logger: logger)
    }

    public func deleteProject(id: String) async throws {
        // One statement, so one transaction: the conversations leave the project as it goes, and its files go with it
        // (`ON DELETE CASCADE`).
        try await execute(
            """
            WITH moved AS (UPDATE conversations SET project_id = NULL WHERE project_id = \(id))
            DELETE FROM projects WHERE id = \(id)
            """, logger: logger)
    }

    public func projectFiles(projectID: String) async throws -> [ProjectFile] {
        try await rows("SELECT * FROM project_files WHERE project_id = \(projectID) ORDER BY created_at, id").map(StoredValues.projectFile)
    }

    public func addProjectFile(_ file: ProjectFile) async throws {
        try await execute(
            """
            INSERT INTO project_files (id, project_id, name, text, created_at)
            VALUES (\(file.id), \(file.projectID), \(file.name), \(file.text), \(StoredValues.milliseconds(file.createdAt)))
            """, logger: logger)
    }

    public func projectFile(id: String, projectID: String) async throws -> ProjectFile? {
        try await rows("SELECT * FROM project_files WHERE id = \(id) AND project_id = \(projectID)").first.map(StoredValues.projectFile)
    }

    public func deleteProjectFile(id: String, projectID: String) async throws -> Bool {
        !(try await rows("DELETE FROM project_files WHERE id = \(id) AND project_id = \(projectID) RETURNING id").isEmpty)
    }

    public func moveConversation(id: String, toProject projectID: String?) async throws {
        try await execute("UPDATE conversations SET project_id = \(projectID) WHERE id = \(id)", logger: logger)
    }
}
