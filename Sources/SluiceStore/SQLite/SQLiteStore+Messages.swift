import Foundation
import GRDB
import SluiceCore

/// A conversation's messages: stored, streamed into, versioned, finished, and recovered after a stop.
extension SQLiteStore {
    public func messages(conversationID: String) async throws -> [Message] {
        try await connection.query(
            "SELECT \(Self.messageColumns) FROM messages m WHERE conversation_id = ? ORDER BY created_at, m.rowid", [.text(conversationID)]
        ).map(StoredValues.message)
    }

    public func message(id: String) async throws -> Message? {
        try await connection.query("SELECT \(Self.messageColumns) FROM messages m WHERE id = ?", [.text(id)]).first.map(StoredValues.message)
    }

    public func claimThread(userID: String, threadKey: String) async throws -> Conversation? {
        try await connection.query(
            """
            UPDATE conversations SET thread_key = NULL
            WHERE thread_key = ?2 AND id = (
                SELECT id FROM conversations WHERE user_id = ?1 AND thread_key = ?2 ORDER BY updated_at DESC LIMIT 1)
            RETURNING *
            """,
            [.text(userID), .text(threadKey)]
        ).first.map(StoredValues.conversation)
    }

    public func setThreadKey(conversationID: String, threadKey: String?) async throws {
        let (sql, binds) = Self.threadKeyStatement(conversationID: conversationID, threadKey: threadKey)
        _ = try await connection.query(sql, binds)
    }

    /// The `UPDATE` that marks a conversation with the thread key of how it ended.
    static func threadKeyStatement(conversationID: String, threadKey: String?) -> (String, [SQLiteData]) {
        ("UPDATE conversations SET thread_key = ? WHERE id = ?", [Self.optional(threadKey), .text(conversationID)])
    }

    public func insert(_ message: Message) async throws {
        try await insert([message])
    }

    /// One multi-row `INSERT` per 500 messages: a conversation's history arrives with every gateway call, and a
    /// statement (and a WAL commit) per message made a long conversation cost more than its answer.
    public func insert(_ messages: [Message]) async throws {
        for (sql, binds) in Self.insertions(of: messages) {
            try await connection.query(sql, binds, cached: binds.count == Self.messageColumnCount)
        }
        // The conversation's updated_at follows by trigger (migration 9).
    }

    static let messageColumnCount = 22

    /// The multi-row `INSERT` statements that store `messages`, 500 rows each (22 values a row, well under
    /// SQLite's 32 766 bound parameters).
    static func insertions(of messages: [Message]) -> [(String, [SQLiteData])] {
        let rowsPerStatement = 500
        let row = "(" + Array(repeating: "?", count: messageColumnCount).joined(separator: ", ") + ")"
        return stride(from: 0, to: messages.count, by: rowsPerStatement).map { start in
            let chunk = messages[start..<min(start + rowsPerStatement, messages.count)]
            let sql = """
                INSERT INTO messages (id, conversation_id, role, content, status, model, created_at, input_tokens,
                    output_tokens, total_tokens, ttft_ms, duration_ms, finish_reason, error, error_code, version_group, superseded,
                    tool_calls, tool_call_id, attachments, images, thinking_blocks)
                VALUES \(Array(repeating: row, count: chunk.count).joined(separator: ", "))
                """
            return (sql, chunk.flatMap(columnValues))
        }
    }

    /// A new message's values in the column order of `insert`.
    fileprivate static func columnValues(_ message: Message) -> [SQLiteData] {
        [
            .text(message.id), .text(message.conversationID), .text(message.role.rawValue), .text(message.content),
            .text(message.status.rawValue), optional(message.model),
            .integer(milliseconds(message.createdAt)), optional(message.usage?.inputTokens),
            optional(message.usage?.outputTokens), optional(message.usage?.totalTokens),
            optional(message.ttftMs), optional(message.durationMs), optional(message.finishReason),
            optional(message.error), optional(message.errorCode), optional(message.versionGroup),
            .integer(message.superseded ? 1 : 0), optional(StoredValues.encode(message.toolCalls)), optional(message.toolCallID),
            optional(StoredValues.encode(message.attachments)), optional(StoredValues.encode(message.images)),
            optional(StoredValues.encode(message.signedThinking)),
        ]
    }

    /// One transaction for all the answers' progress: one commit (and one set of WAL frames) per interval
    /// instead of one per running answer.
    public func saveProgress(_ updates: [ProgressUpdate]) async throws {
        guard !updates.isEmpty else { return }
        let rows = updates.map {
            [SQLiteData.text($0.content), .text(StoredValues.encode($0.tokenEnds)), Self.optional($0.reasoning),
             Self.optional($0.reasoningMs), .text($0.messageID)]
        }
        try await connection.transaction { db in
            for binds in rows {
                try SQLiteConnection.run(
                    """
                    UPDATE messages SET content = ?, token_ends = ?, reasoning = COALESCE(?, reasoning),
                        reasoning_ms = COALESCE(?, reasoning_ms)
                    WHERE id = ? AND status = 'streaming'
                    """, binds, in: db)
            }
        }
    }

    public func addVersion(_ message: Message, replacing previous: Message, alsoSuperseding others: [String]) async throws {
        let group = previous.versionGroup ?? previous.id
        var version = message
        version.versionGroup = group
        version.superseded = false
        let insertions = Self.insertions(of: [version])
        try await connection.transaction { db in
            try SQLiteConnection.run(
                "UPDATE messages SET version_group = ?, superseded = 1 WHERE id = ? OR version_group = ?",
                [.text(group), .text(previous.id), .text(group)], in: db)
            for id in others {
                try SQLiteConnection.run(
                    "UPDATE messages SET superseded = 1, hidden_with = ? WHERE id = ?", [.text(previous.id), .text(id)], in: db)
            }
            for (sql, binds) in insertions { try SQLiteConnection.run(sql, binds, in: db) }
        }
    }

    public func selectVersion(_ version: Message, replacing current: Message, hiding later: [String]) async throws {
        try await connection.transaction { db in
            try SQLiteConnection.run("UPDATE messages SET superseded = 1 WHERE id = ?", [.text(current.id)], in: db)
            for id in later {
                try SQLiteConnection.run(
                    "UPDATE messages SET superseded = 1, hidden_with = ? WHERE id = ?", [.text(current.id), .text(id)], in: db)
            }
            try SQLiteConnection.run("UPDATE messages SET superseded = 0 WHERE id = ?", [.text(version.id)], in: db)
            try SQLiteConnection.run(
                "UPDATE messages SET superseded = 0, hidden_with = NULL WHERE conversation_id = ? AND hidden_with = ?",
                [.text(version.conversationID), .text(version.id)], in: db)
            try SQLiteConnection.run(
                "UPDATE conversations SET thread_key = NULL WHERE id = ?", [.text(version.conversationID)], in: db)
        }
    }

    public func versions(group: String) async throws -> [Message] {
        try await connection.query(
            "SELECT * FROM messages WHERE version_group = ? ORDER BY created_at, rowid", [.text(group)]
        ).map(StoredValues.message)
    }

    public func reopen(messageID: String, model: String) async throws {
        _ = try await connection.query(
            "UPDATE messages SET status = 'streaming', error = NULL, error_code = NULL, finish_reason = NULL, model = ? WHERE id = ?",
            [.text(model), .text(messageID)])
    }

    public func finish(messageID: String, outcome: AssistantOutcome) async throws {
        let (sql, binds) = Self.finishStatement(messageID: messageID, outcome: outcome)
        _ = try await connection.query(sql, binds)
    }

    public func setPersonalDataMasked(messageID: String, counts: [String: Int]) async throws {
        _ = try await connection.query(
            "UPDATE messages SET personal_data_masked = ? WHERE id = ?", [.text(StoredValues.json(counts)), .text(messageID)])
    }

    public func setSources(messageID: String, sources: [ExcerptSource]) async throws {
        _ = try await connection.query(
            "UPDATE messages SET sources = ? WHERE id = ?", [Self.optional(StoredValues.encodeList(sources)), .text(messageID)])
    }

    /// The `UPDATE` that stores how an answer ended.
    static func finishStatement(messageID: String, outcome: AssistantOutcome) -> (String, [SQLiteData]) {
        (
            """
            UPDATE messages SET content = ?, status = ?, input_tokens = ?, output_tokens = ?, total_tokens = ?,
                usage_source = ?, counted_input_tokens = ?, counted_output_tokens = ?,
                ttft_ms = ?, duration_ms = ?, finish_reason = ?, error = ?, error_code = ?, token_ends = ?,
                model = COALESCE(?, model), tool_calls = ?, cached_input_tokens = ?, cache_write_tokens = ?,
                reasoning = COALESCE(?, reasoning), reasoning_ms = COALESCE(?, reasoning_ms),
                thinking_blocks = COALESCE(?, thinking_blocks)
            WHERE id = ?
            """,
            [
                .text(outcome.content), .text(outcome.status.rawValue), Self.optional(outcome.usage?.inputTokens),
                Self.optional(outcome.usage?.outputTokens), Self.optional(outcome.usage?.totalTokens),
                Self.optional(outcome.usage?.source?.rawValue), Self.optional(outcome.usage?.countedInputTokens),
                Self.optional(outcome.usage?.countedOutputTokens),
                Self.optional(outcome.ttftMs), Self.optional(outcome.durationMs), Self.optional(outcome.finishReason),
                Self.optional(outcome.error), Self.optional(outcome.errorCode), .text(StoredValues.encode(outcome.tokenEnds)),
                Self.optional(outcome.model), Self.optional(StoredValues.encode(outcome.toolCalls)),
                Self.optional(outcome.usage?.cachedInputTokens), Self.optional(outcome.usage?.cacheWriteTokens),
                Self.optional(outcome.reasoning), Self.optional(outcome.reasoningMs),
                Self.optional(StoredValues.encode(outcome.signedThinking)), .text(messageID),
            ]
        )
    }

    public func recoverInterruptedMessages() async throws -> Int {
        let rows = try await connection.query(
            """
            UPDATE messages SET status = 'partial', error = 'Sluice stopped while this answer was being written.',
                error_code = 'interrupted'
            WHERE status = 'streaming' RETURNING id
            """)
        try await releaseInterruptedHolds()
        // The unkept conversations (`markUnkept`) of those answers, and any that lapsed.
        try await connection.transaction { db in
            let doomed = try SQLiteConnection.run(
                """
                DELETE FROM unkept_conversations
                WHERE EXISTS (
                    SELECT 1 FROM messages m WHERE m.conversation_id = unkept_conversations.conversation_id
                    AND m.error_code = 'interrupted')
                RETURNING conversation_id
                """, cached: false, in: db)
            for row in doomed {
                try SQLiteConnection.run("DELETE FROM conversations WHERE id = ?", [.text(row.text("conversation_id"))], in: db)
            }
        }
        _ = try await deleteLapsedUnkept(now: Date())
        return rows.count
    }

    public func deleteLapsedUnkept(now: Date) async throws -> Int {
        let lapsed = StoredValues.milliseconds(now.addingTimeInterval(-StoredValues.unkeptLifetime))
        let doomed = try await connection.transactionReturning { db in
            let doomed = try SQLiteConnection.run(
                """
                DELETE FROM unkept_conversations
                WHERE created_at < ? AND NOT EXISTS (
                    SELECT 1 FROM messages m WHERE m.conversation_id = unkept_conversations.conversation_id
                    AND (m.created_at >= ? OR m.status = 'streaming'))
                RETURNING conversation_id
                """, [.integer(lapsed), .integer(lapsed)], cached: false, in: db)
            for row in doomed {
                try SQLiteConnection.run("DELETE FROM conversations WHERE id = ?", [.text(row.text("conversation_id"))], in: db)
            }
            return doomed
        }
        return doomed.count
    }
}
