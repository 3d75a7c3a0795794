import Foundation
import PostgresNIO
import SluiceCore

/// What a branch keeps beyond the shared insert (schema step 47).
extension PostgresStore {
    public func recordBranch(conversationID: String, from original: String, copies: [Message]) async throws {
        let extras = copies.filter { $0.reasoning != nil || !$0.sources.isEmpty || !$0.personalDataMasked.isEmpty }
        try await transaction { connection in
            try await connection.query(
                "UPDATE conversations SET branched_from = \(original) WHERE id = \(conversationID)", logger: logger)
            for message in extras {
                try await connection.query(
                    """
                    UPDATE messages SET reasoning = \(message.reasoning), reasoning_ms = \(message.reasoningMs),
                        sources = \(StoredValues.encodeList(message.sources)),
                        personal_data_masked = \(message.personalDataMasked.isEmpty ? nil : StoredValues.json(message.personalDataMasked))
                    WHERE id = \(message.id) AND conversation_id = \(conversationID)
                    """, logger: logger)
            }
        }
    }
}
