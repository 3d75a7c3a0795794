import Foundation
import SluiceCore

extension PostgresStore {
    public func touchUnkept(conversationID: String, at: Date) async throws -> Bool {
        try await !rows(
            "UPDATE unkept_conversations SET created_at = \(StoredValues.milliseconds(at)) WHERE conversation_id = \(conversationID) RETURNING conversation_id"
        ).isEmpty
    }
}
