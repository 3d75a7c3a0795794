import Foundation
import SluiceCore

extension SQLiteStore {
    public func touchUnkept(conversationID: String, at: Date) async throws -> Bool {
        try await !connection.query(
            "UPDATE unkept_conversations SET created_at = ? WHERE conversation_id = ? RETURNING conversation_id",
            [.integer(StoredValues.milliseconds(at)), .text(conversationID)]).isEmpty
    }
}
