import Foundation
import SluiceCore

/// Every conversation of a user's at once: archived or deleted.
extension SQLiteStore {
    public func archiveAllConversations(userID: String, at: Date) async throws -> Int {
        try await connection.query(
            """
            UPDATE conversations SET archived_at = ?, pinned_at = NULL
            WHERE user_id = ? AND archived_at IS NULL AND \(StoredValues.keptOnly("conversations")) RETURNING id
            """, [.integer(Self.milliseconds(at)), .text(userID)]
        ).count
    }

    public func deleteAllConversations(userID: String) async throws -> Int {
        try await connection.transactionReturning { db in
            _ = try SQLiteConnection.run(
                "DELETE FROM unkept_conversations WHERE conversation_id IN (SELECT id FROM conversations WHERE user_id = ?)",
                [.text(userID)], in: db)
            return try SQLiteConnection.run("DELETE FROM conversations WHERE user_id = ? RETURNING id", [.text(userID)], in: db)
        }.count
    }
}
