import Foundation
import SluiceCore

/// The one statement of a conversation search (`ConversationStore.searchConversations`), written once for both
/// databases: each term must be in the title or in some message of the conversation; the hit shown is the message
/// with the most terms (the first of those). Binds: the terms' `LIKE` patterns (`SearchTerms.likePattern`) as 1…n,
/// then the user's id (n + 1) and the limit (n + 2).
///
/// A scan of the user's conversations and their messages (through the index on `messages.conversation_id`): one
/// person's history is searched in milliseconds (docs/benchmarks.md); an index for substrings (SQLite's FTS5 trigram
/// tokenizer, PostgreSQL's `pg_trgm`) would be the next step.
enum ConversationSearchSQL {
    static func statement(termCount: Int, dialect: SQLDialect) -> String {
        let terms = 1...max(termCount, 1)
        func placeholder(_ index: Int) -> String { dialect == .sqlite ? "?\(index)" : "$\(index)" }
        func has(_ column: String, _ index: Int) -> String {
            "\(column) \(dialect == .sqlite ? "LIKE" : "ILIKE") \(placeholder(index)) ESCAPE '\\'"
        }
        let anyTerm = terms.map { has("m.content", $0) }.joined(separator: " OR ")
        let termsFound = terms.map { dialect == .sqlite ? "(\(has("m.content", $0)))" : "(\(has("m.content", $0)))::int" }
            .joined(separator: " + ")
        let everyTerm = terms.map {
            "(\(has("c.title", $0)) OR EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND \(has("m.content", $0))))"
        }.joined(separator: "\n  AND ")
        return """
            SELECT c.*, (SELECT m.content FROM messages m WHERE m.conversation_id = c.id AND (\(anyTerm))
                         ORDER BY \(termsFound) DESC, m.created_at LIMIT 1) AS hit
            FROM conversations c
            WHERE c.user_id = \(placeholder(terms.count + 1)) AND \(StoredValues.keptOnly("c"))
              AND \(everyTerm)
            ORDER BY c.updated_at DESC, \(dialect == .sqlite ? "c.rowid" : "c.seq") DESC LIMIT \(placeholder(terms.count + 2))
            """
    }
}
