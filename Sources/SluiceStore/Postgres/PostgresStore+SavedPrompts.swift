import Foundation
import PostgresNIO
import SluiceCore

/// The prompts users keep to reuse (`SavedPrompt`, schema step 46).
extension PostgresStore {
    public func savedPrompts(userID: String) async throws -> [SavedPrompt] {
        try await rows("SELECT * FROM saved_prompts WHERE user_id = \(userID) ORDER BY command COLLATE \"C\"").map(StoredValues.savedPrompt)
    }

    public func savedPrompt(id: String) async throws -> SavedPrompt? {
        try await rows("SELECT * FROM saved_prompts WHERE id = \(id)").first.map(StoredValues.savedPrompt)
    }

    public func addSavedPrompt(_ prompt: SavedPrompt) async throws {
        do {
            try await execute(
                """
                INSERT INTO saved_prompts (id, user_id, command, title, content, created_at, updated_at)
                VALUES (\(prompt.id), \(prompt.userID), \(prompt.command), \(prompt.title), \(prompt.content),
                        \(StoredValues.milliseconds(prompt.createdAt)), \(StoredValues.milliseconds(prompt.updatedAt)))
                """, logger: logger)
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            throw StoreError.conflict("this user already has a prompt /\(prompt.command)")
        }
    }

    public func updateSavedPrompt(_ prompt: SavedPrompt) async throws {
        do {
            try await execute(
                """
                UPDATE saved_prompts SET command = \(prompt.command), title = \(prompt.title), content = \(prompt.content),
                    updated_at = \(StoredValues.milliseconds(prompt.updatedAt))
                WHERE id = \(prompt.id)
                """, logger: logger)
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            throw StoreError.conflict("this user already has a prompt /\(prompt.command)")
        }
    }

    public func deleteSavedPrompt(id: String) async throws {
        try await execute("DELETE FROM saved_prompts WHERE id = \(id)", logger: logger)
    }
}
