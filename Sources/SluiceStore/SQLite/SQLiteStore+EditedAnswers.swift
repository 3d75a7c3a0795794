import Foundation
import SluiceCore

/// Answers the user rewrote (`Message.editedAt`, schema step 43).
extension SQLiteStore {
    public func editAnswer(messageID: String, content: String, at: Date) async throws -> Bool {
        let ends = StoredValues.encode(content.isEmpty ? [] : [content.utf8.count])
        return !(try await connection.query(
            """
            UPDATE messages SET content = ?, token_ends = ?, edited_at = ?
            WHERE id = ? AND role = 'assistant' AND status <> 'streaming' RETURNING id
            """,
            [.text(content), .text(ends), .integer(StoredValues.milliseconds(at)), .text(messageID)]
        ).isEmpty)
    }
}
