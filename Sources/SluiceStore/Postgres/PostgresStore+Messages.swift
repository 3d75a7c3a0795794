import Foundation
import PostgresNIO
import SluiceCore

extension PostgresRandomAccessRow: StoredRow {
    func string(_ column: String) -> String? {
        guard contains(column) else { return nil }
        return try? self[column].decode(String?.self)
    }

    func int(_ column: String) -> Int? {
        guard contains(column) else { return nil }
        return try? self[column].decode(Int?.self)
    }
}

/// Messages, their versions, context modes and summaries on PostgreSQL.
extension PostgresStore {
    /// A message's columns plus its cost from the usage ledger.
    static let messageColumns = """
        m.*, (SELECT SUM(u.cost_picousd)::bigint FROM token_usage u WHERE u.message_id = m.id AND u.state = 'settled') AS cost_picousd
        """

    public func messages(conversationID: String) async throws -> [Message] {
        try await rows(
            "SELECT \(unescaped: Self.messageColumns) FROM messages m WHERE conversation_id = \(conversationID) ORDER BY created_at, seq"
        ).map(StoredValues.message)
    }

    public func message(id: String) async throws -> Message? {
        try await rows("SELECT \(unescaped: Self.messageColumns) FROM messages m WHERE id = \(id)").first.map(StoredValues.message)
    }

    public func insert(_ message: Message) async throws {
        try await run(MessageInsertStatement(message, writer: instanceID))
    }

    /// One multi-row `INSERT` per 1 000 messages (a conversation's history), touching each conversation once.
    public func insert(_ messages: [Message]) async throws {
        for start in stride(from: 0, to: messages.count, by: Self.messagesPerStatement) {
            try await execute(insertion(of: messages[start..<min(start + Self.messagesPerStatement, messages.count)]), logger: logger)
        }
    }

    /// Rows per multi-row `INSERT`: 23 values each, under PostgreSQL's 65 535 bound parameters.
    static let messagesPerStatement = 1000

    /// The columns a new message is inserted with, in the order of `appendValues(of:to:)`.
    static let insertedColumns = """
        id, conversation_id, role, content, status, model, created_at, input_tokens, output_tokens, total_tokens,
        ttft_ms, duration_ms, finish_reason, error, error_code, version_group, superseded, writer, tool_calls, tool_call_id,
        attachments, images, thinking_blocks
        """

    /// Appends a new message's values (`insertedColumns`, as `StatementValues.message` writes them) to `values`;
    /// returns their placeholders, `$n, …`. An answer carries this instance's id as its writer.
    func appendValues(of message: Message, to values: inout StatementValues) -> String {
        let first = values.types.count
        values.message(message, writer: instanceID)
        return (first + 1...values.types.count).map { "$\($0)" }.joined(separator: ", ")
    }

    /// Inserts the messages and touches their conversations in one statement; an answer carries this instance's id.
    /// A new `conversation` is inserted first, by a data-modifying `WITH` of the same statement; the touch cannot
    /// see it (one snapshot), so it is stored with the newest message's time as its `updated_at`.
    func insertion(of messages: some Collection<Message>, creating conversation: Conversation? = nil) -> PostgresQuery {
        var values = StatementValues()
        var rows: [String] = []
        for message in messages {
            rows.append("(" + appendValues(of: message, to: &values) + ")")
        }
        var created = ""
        if let conversation {
            let first = values.types.count
            let updated = ([conversation.updatedAt] + messages.map(\.createdAt)).max()!
            values.conversation(conversation, updatedAt: updated)
            created = """
                created AS (
                    INSERT INTO conversations (\(StoredValues.conversationColumns))
                    VALUES (\((first + 1...first + 8).map { "$\($0)" }.joined(separator: ", ")))
                ),
                """
        }
        return PostgresQuery(unsafeSQL: """
            WITH \(created) inserted AS (
                INSERT INTO messages (\(Self.insertedColumns))
                VALUES \(rows.joined(separator: ", "))
                RETURNING conversation_id, created_at
            )
            UPDATE conversations c SET updated_at = latest.at
            FROM (SELECT conversation_id, MAX(created_at) AS at FROM inserted GROUP BY conversation_id) latest
            WHERE c.id = latest.conversation_id
            """, binds: values.bindings)
    }

    /// One statement for all the answers' progress (arrays unnested into rows).
    public func saveProgress(_ updates: [ProgressUpdate]) async throws {
        guard !updates.isEmpty else { return }
        try await run(ProgressStatement(updates))
    }

    public func addVersion(_ message: Message, replacing previous: Message, alsoSuperseding others: [String]) async throws {
        let group = previous.versionGroup ?? previous.id
        var version = message
        version.versionGroup = group
        version.superseded = false
        let insertion = insertion(of: [version])
        try await transaction { connection in
            try await connection.query(
                "UPDATE messages SET version_group = \(group), superseded = 1 WHERE id = \(previous.id) OR version_group = \(group)",
                logger: logger)
            if !others.isEmpty {
                try await connection.query(
                    "UPDATE messages SET superseded = 1, hidden_with = \(previous.id) WHERE id = ANY(\(others))", logger: logger)
            }
            try await connection.query(insertion, logger: logger)
        }
    }

    public func selectVersion(_ version: Message, replacing current: Message, hiding later: [String]) async throws {
        try await transaction { connection in
            try await connection.query("UPDATE messages SET superseded = 1 WHERE id = \(current.id)", logger: logger)
            if !later.isEmpty {
                try await connection.query(
                    "UPDATE messages SET superseded = 1, hidden_with = \(current.id) WHERE id = ANY(\(later))", logger: logger)
            }
            try await connection.query(
                """
                UPDATE messages SET superseded = 0, hidden_with = NULL
                WHERE id = \(version.id) OR (conversation_id = \(version.conversationID) AND hidden_with = \(version.id))
                """, logger: logger)
            try await connection.query(
                "UPDATE conversations SET thread_key = NULL WHERE id = \(version.conversationID)", logger: logger)
        }
    }

    public func versions(group: String) async throws -> [Message] {
        try await rows("SELECT * FROM messages WHERE version_group = \(group) ORDER BY created_at, seq").map(StoredValues.message)
    }

    public func reopen(messageID: String, model: String) async throws {
        try await execute(
            """
            UPDATE messages SET status = 'streaming', error = NULL, error_code = NULL, finish_reason = NULL,
                model = \(model), writer = \(instanceID)
            WHERE id = \(messageID)
            """, logger: logger)
    }

    public func setPersonalDataMasked(messageID: String, counts: [String: Int]) async throws {
        try await execute("UPDATE messages SET personal_data_masked = \(StoredValues.json(counts)) WHERE id = \(messageID)")
    }

    public func setSources(messageID: String, sources: [ExcerptSource]) async throws {
        try await execute("UPDATE messages SET sources = \(StoredValues.encodeList(sources)) WHERE id = \(messageID)")
    }

    public func finish(messageID: String, outcome: AssistantOutcome) async throws {
        try await run(SettleStatement(hold: nil, answer: AnswerFinish(messageID: messageID, outcome: outcome)))
    }

    /// Marks interrupted the answers left `streaming` by instances that are gone (stopped, or silent for longer
    /// than `staleAfter`), and releases their budget holds. Answers of live instances are left alone.
    public func recoverInterruptedMessages() async throws -> Int {
        try await Self.recoverAbandoned(client: client, staleAfter: staleAfter)
    }

    static func recoverAbandoned(client: PostgresClient, staleAfter: Duration) async throws -> Int {
        let cutoff = StoredValues.milliseconds(Date()) - Int(staleAfter.components.seconds * 1000)
        let recovered = try await client.query(
            """
            WITH gone AS (
                UPDATE messages SET status = 'partial', error = 'Sluice stopped while this answer was being written.',
                    error_code = 'interrupted'
                WHERE status = 'streaming' AND (writer IS NULL OR writer NOT IN (
                    SELECT id FROM sluice_instances WHERE seen_at > \(cutoff)))
                RETURNING id
            ), released AS (
                UPDATE token_usage SET state = 'released' WHERE state = 'held' AND message_id IN (SELECT id FROM gone)
                RETURNING user_id, reserved_tokens
            ), uncounted AS (
                UPDATE user_token_limits l SET tokens_held = l.tokens_held - r.tokens
                FROM (SELECT user_id, SUM(reserved_tokens) AS tokens FROM released GROUP BY user_id) r
                WHERE l.user_id = r.user_id
            )
            SELECT id FROM gone
            """
        ).collect()
        try await client.query("DELETE FROM sluice_instances WHERE seen_at <= \(cutoff)")
        // The unkept conversations (`markUnkept`) of those answers, and any that lapsed.
        try await client.query(
            """
            WITH doomed AS (
                DELETE FROM unkept_conversations u
                WHERE EXISTS (
                    SELECT 1 FROM messages m WHERE m.conversation_id = u.conversation_id AND m.error_code = 'interrupted')
                RETURNING conversation_id
            )
            DELETE FROM conversations WHERE id IN (SELECT conversation_id FROM doomed)
            """)
        _ = try await deleteLapsedUnkept(client: client, now: Date())
        return recovered.count
    }

    public func deleteLapsedUnkept(now: Date) async throws -> Int {
        try await Self.deleteLapsedUnkept(client: client, now: now)
    }

    static func deleteLapsedUnkept(client: PostgresClient, now: Date) async throws -> Int {
        let lapsed = StoredValues.milliseconds(now.addingTimeInterval(-StoredValues.unkeptLifetime))
        return try await client.query(
            """
            WITH doomed AS (
                DELETE FROM unkept_conversations u
                WHERE u.created_at < \(lapsed) AND NOT EXISTS (
                    SELECT 1 FROM messages m WHERE m.conversation_id = u.conversation_id
                    AND (m.created_at >= \(lapsed) OR m.status = 'streaming'))
                RETURNING conversation_id
            )
            DELETE FROM conversations WHERE id IN (SELECT conversation_id FROM doomed) RETURNING id
            """
        ).collect().count
    }

    // MARK: Context

    public func setContextMode(messageID: String, mode: ContextMode) async throws {
        let updated = try await rows("UPDATE messages SET context_mode = \(mode.rawValue) WHERE id = \(messageID) RETURNING id")
        if updated.isEmpty { throw StoreError.notFound }
    }

    public func setFeedback(messageID: String, feedback: AnswerFeedback?) async throws {
        let (rating, comment, at) = (feedback?.rating.rawValue, feedback?.comment, feedback.map { StoredValues.milliseconds($0.at) })
        let updated = try await rows(
            """
            UPDATE messages SET feedback = \(rating), feedback_comment = \(comment), feedback_at = \(at)
            WHERE id = \(messageID) RETURNING id
            """)
        if updated.isEmpty { throw StoreError.notFound }
    }

    public func ratedAnswers(since: Date, rating: AnswerFeedback.Rating?, limit: Int) async throws -> [RatedAnswer] {
        var query = PostgresQuery(unsafeSQL: StoredValues.ratedAnswersSQL(since: "$1", rating: "$2::text", limit: "$3"))
        query.binds.append(StoredValues.milliseconds(since))
        query.binds.append(rating?.rawValue)
        query.binds.append(limit)
        return try await rows(query).compactMap(StoredValues.ratedAnswer)
    }

    public func summary(conversationID: String) async throws -> ConversationSummary? {
        try await rows(
            "SELECT text, covered_ids, model, updated_at FROM conversation_summaries WHERE conversation_id = \(conversationID)"
        ).first.map(StoredValues.summary)
    }

    public func saveSummary(conversationID: String, summary: ConversationSummary) async throws {
        try await execute(
            """
            INSERT INTO conversation_summaries (conversation_id, text, covered_ids, model, updated_at)
            VALUES (\(conversationID), \(summary.text), \(summary.coveredMessageIDs.joined(separator: ",")), \(summary.model),
                \(StoredValues.milliseconds(summary.updatedAt)))
            ON CONFLICT (conversation_id) DO UPDATE SET text = excluded.text, covered_ids = excluded.covered_ids,
                model = excluded.model, updated_at = excluded.updated_at
            """, logger: logger)
    }
}
