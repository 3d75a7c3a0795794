import Foundation
import GRDB
import SluiceCore

/// The prompts users keep to reuse (`SavedPrompt`, schema step 46).
extension SQLiteStore {
    public func savedPrompts(userID: String) async throws -> [SavedPrompt] {
        try await connection.query("SELECT * FROM saved_prompts WHERE user_id = ? ORDER BY command", [.text(userID)])
            .map(StoredValues.savedPrompt)
    }

    public func savedPrompt(id: String) async throws -> SavedPrompt? {
        try await connection.query("SELECT * FROM saved_prompts WHERE id = ?", [.text(id)]).first.map(StoredValues.savedPrompt)
    }

    public func addSavedPrompt(_ prompt: SavedPrompt) async throws {
        do {
            _ = try await connection.query(
                "INSERT INTO saved_prompts (id, user_id, command, title, content, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    .text(prompt.id), .text(prompt.userID), .text(prompt.command), .text(prompt.title), .text(prompt.content),
                    .integer(Self.milliseconds(prompt.createdAt)), .integer(Self.milliseconds(prompt.updatedAt)),
                ])
        } catch let error as DatabaseError where error.isConstraintViolation {
            throw StoreError.conflict("this user already has a prompt /\(prompt.command)")
        }
    }

    public func updateSavedPrompt(_ prompt: SavedPrompt) async throws {
        do {
            _ = try await connection.query(
                "UPDATE saved_prompts SET command = ?, title = ?, content = ?, updated_at = ? WHERE id = ?",
                [
                    .text(prompt.command), .text(prompt.title), .text(prompt.content), .integer(Self.milliseconds(prompt.updatedAt)),
                    .text(prompt.id),
                ])
        } catch let error as DatabaseError where error.isConstraintViolation {
            throw StoreError.conflict("this user already has a prompt /\(prompt.command)")
        }
    }

    public func deleteSavedPrompt(id: String) async throws {
        _ = try await connection.query("DELETE FROM saved_prompts WHERE id = ?", [.text(id)])
    }
}
