import Foundation
import PostgresNIO
import SluiceCore

/// Answers the user rewrote (`Message.editedAt`, schema step 43).
extension PostgresStore {
    public func editAnswer(messageID: String, content: String, at: Date) async throws -> Bool {
        let ends = StoredValues.encode(content.isEmpty ? [] : [content.utf8.count])
        return !(try await rows(
            """
            UPDATE messages SET content = \(content), token_ends = \(ends), edited_at = \(StoredValues.milliseconds(at))
            WHERE id = \(messageID) AND role = 'assistant' AND status <> 'streaming' RETURNING id
            """).isEmpty)
    }
}
