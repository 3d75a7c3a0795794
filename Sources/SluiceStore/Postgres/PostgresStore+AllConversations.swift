import Foundation
import PostgresNIO
import SluiceCore

/// Every conversation of a user's at once: archived or deleted.
extension PostgresStore {
    public func archiveAllConversations(userID: String, at: Date) async throws -> Int {
        try await rows(
            """
            UPDATE conversations SET archived_at = \(StoredValues.milliseconds(at)), pinned_at = NULL
            WHERE user_id = \(userID) AND archived_at IS NULL AND \(unescaped: StoredValues.keptOnly("conversations")) RETURNING id
            """
        ).count
    }

    public func deleteAllConversations(userID: String) async throws -> Int {
        // One statement, so one transaction: the temporary chats' marks go with their conversations.
        try await rows(
            """
            WITH doomed AS (SELECT id FROM conversations WHERE user_id = \(userID)),
                 unmarked AS (DELETE FROM unkept_conversations WHERE conversation_id IN (SELECT id FROM doomed))
            DELETE FROM conversations WHERE id IN (SELECT id FROM doomed) RETURNING id
            """
        ).count
    }
}
