import Foundation
import SluiceCore

/// What a branch keeps beyond the shared insert (schema step 47).
extension SQLiteStore {
    public func recordBranch(conversationID: String, from original: String, copies: [Message]) async throws {
        let extras = copies.filter { $0.reasoning != nil || !$0.sources.isEmpty }
        try await connection.transaction { db in
            try SQLiteConnection.run(
                "UPDATE conversations SET branched_from = ? WHERE id = ?", [.text(original), .text(conversationID)], in: db)
            for message in extras {
                try SQLiteConnection.run(
                    "UPDATE messages SET reasoning = ?, reasoning_ms = ?, sources = ? WHERE id = ? AND conversation_id = ?",
                    [Self.optional(message.reasoning), Self.optional(message.reasoningMs),
                     Self.optional(StoredValues.encodeList(message.sources)), .text(message.id), .text(conversationID)],
                    in: db)
            }
        }
    }
}
