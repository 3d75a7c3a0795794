import Foundation
import SluiceCore

/// What a branch keeps beyond the shared insert (schema step 47).
extension SQLiteStore {
    public func recordBranch(conversationID: String, from original: String, copies: [Message]) async throws {
        let thinking = copies.filter { $0.reasoning != nil }
        try await connection.transaction { db in
            try SQLiteConnection.run(
                "UPDATE conversations SET branched_from = ? WHERE id = ?", [.text(original), .text(conversationID)], in: db)
            for message in thinking {
                try SQLiteConnection.run(
                    "UPDATE messages SET reasoning = ?, reasoning_ms = ? WHERE id = ? AND conversation_id = ?",
                    [Self.optional(message.reasoning), Self.optional(message.reasoningMs), .text(message.id), .text(conversationID)],
                    in: db)
            }
        }
    }
}
