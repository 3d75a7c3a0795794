import Foundation
import SluiceCore

/// A user's projects (`Project`, schema step 45).
extension SQLiteStore {
    public func createProject(_ project: Project) async throws {
        _ = try await connection.query(
            "INSERT INTO projects (id, user_id, name, instructions, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
            [
                .text(project.id), .text(project.userID), .text(project.name), project.instructions.map { .text($0) } ?? .null,
                .integer(Self.milliseconds(project.createdAt)), .integer(Self.milliseconds(project.updatedAt)),
            ])
    }

    public func projects(userID: String) async throws -> [Project] {
        try await connection.query(
            "SELECT * FROM projects WHERE user_id = ? ORDER BY updated_at DESC, rowid DESC", [.text(userID)]
        ).map(StoredValues.project)
    }

    public func projectConversationCounts(userID: String) async throws -> [String: Int] {
        let rows = try await connection.query(StoredValues.projectConversationCounts(userID: "?"), [.text(userID)])
        return Dictionary(uniqueKeysWithValues: rows.map { ($0.text("project_id"), $0.int("count") ?? 0) })
    }

    public func project(id: String) async throws -> Project? {
        try await connection.query("SELECT * FROM projects WHERE id = ?", [.text(id)]).first.map(StoredValues.project)
    }

    public func updateProject(_ project: Project) async throws {
        _ = try await connection.query(
            "UPDATE projects SET name = ?, instructions = ?, updated_at = ? WHERE id = ?",
            [
                .text(project.name), project.instructions.map { .text($0) } ?? .null,
                .integer(Self.milliseconds(project.updatedAt)), .text(project.id),
            ])
    }

    public func deleteProject(id: String) async throws {
        try await connection.transaction { db in
            try SQLiteConnection.run("UPDATE conversations SET project_id = NULL WHERE project_id = ?", [.text(id)], in: db)
            try SQLiteConnection.run("DELETE FROM project_files WHERE project_id = ?", [.text(id)], in: db)
            try SQLiteConnection.run("DELETE FROM projects WHERE id = ?", [.text(id)], in: db)
        }
    }

    public func projectFiles(projectID: String) async throws -> [ProjectFile] {
        try await connection.query(
            "SELECT * FROM project_files WHERE project_id = ? ORDER BY created_at, rowid", [.text(projectID)]
        ).map(StoredValues.projectFile)
    }

    public func addProjectFile(_ file: ProjectFile) async throws {
        _ = try await connection.query(
            "INSERT INTO project_files (id, project_id, name, text, created_at) VALUES (?, ?, ?, ?, ?)",
            [.text(file.id), .text(file.projectID), .text(file.name), .text(file.text), .integer(Self.milliseconds(file.createdAt))])
    }

    public func projectFile(id: String, projectID: String) async throws -> ProjectFile? {
        try await connection.query(
            "SELECT * FROM project_files WHERE id = ? AND project_id = ?", [.text(id), .text(projectID)]
        ).first.map(StoredValues.projectFile)
    }

    public func deleteProjectFile(id: String, projectID: String) async throws -> Bool {
        try await !connection.query(
            "DELETE FROM project_files WHERE id = ? AND project_id = ? RETURNING id", [.text(id), .text(projectID)]).isEmpty
    }

    public func moveConversation(id: String, toProject projectID: String?) async throws {
        _ = try await connection.query(
            "UPDATE conversations SET project_id = ? WHERE id = ?", [projectID.map { .text($0) } ?? .null, .text(id)])
    }
}
