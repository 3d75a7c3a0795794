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
        // One statement, so one transaction: the conversations leave the project as it goes.
        try await execute(
            """
            WITH moved AS (UPDATE conversations SET project_id = NULL WHERE project_id = \(id))
            DELETE FROM projects WHERE id = \(id)
            """, logger: logger)
    }

    public func moveConversation(id: String, toProject projectID: String?) async throws {
        try await execute("UPDATE conversations SET project_id = \(projectID) WHERE id = \(id)", logger: logger)
    }
}
