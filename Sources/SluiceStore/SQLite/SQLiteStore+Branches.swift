import Foundation
import SluiceCore

/// What a branch keeps beyond the shared insert (schema step 47).
extension SQLiteStore {
    public func recordBranch(conversationID: String, from original: String, copies: [Message]) async throws {
        let extras = copies.filter { $0.reasoning != nil || !$0.sources.isEmpty || !$0.personalDataMasked.isEmpty }
        try await connection.transaction { db in
            try SQLiteConnection.run(
                "UPDATE conversations SET branched_from = ? WHERE id = ?", [.text(original), .text(conversationID)], in: db)
            for message in extras {
                try SQLiteConnection.run(
                    """
                    UPDATE messages SET reasoning = ?, reasoning_ms = ?, sources = ?, personal_data_masked = ?
                    WHERE id = ? AND conversation_id = ?
                    """,
                    [Self.optional(message.reasoning), Self.optional(message.reasoningMs),
                     Self.optional(StoredValues.encodeList(message.sources)),
                     Self.optional(message.personalDataMasked.isEmpty ? nil : StoredValues.json(message.personalDataMasked)),
                     .text(message.id), .text(conversationID)],
                    in: db)
            }
        }
    }
}
