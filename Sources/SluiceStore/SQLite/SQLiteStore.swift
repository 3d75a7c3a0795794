import Foundation
import GRDB
import Logging
import SluiceCore

/// The embedded store: one SQLite file (WAL mode) through GRDB.
public final class SQLiteStore: SluiceDatabase {
    let connection: SQLiteConnection
    private let logger: Logger
    /// How long a token budget period lasts; periods end on multiples of it since 1970 (daily: UTC midnight).
    let budgetPeriod: TimeInterval
    /// The whole service's daily spending limit (`nil`: none).
    let globalDailyLimit: USDAmount?
    /// Users whose budget period is known not to have ended (see `ResetCache`).
    let resetCache = ResetCache()
    /// Copies the write-ahead log into the database file on a connection of its own (file databases only).
    private let checkpointer: WALCheckpointer?

    /// Opens (and creates) the database at `path`; `":memory:"` gives a private in-memory database.
    public static func open(
        path: String, budgetPeriod: TimeInterval = 86_400, globalDailyLimit: USDAmount? = nil,
        logger: Logger = Logger(label: "sluice.store")
    ) async throws -> SQLiteStore {
        let file = path != ":memory:"
        if file {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let connection = try SQLiteConnection(path: path, label: "sluice.store", manualCheckpoints: file)
        let checkpointer = file ? try WALCheckpointer.start(path: path, writer: connection, logger: logger) : nil
        return SQLiteStore(
            connection: connection, checkpointer: checkpointer, budgetPeriod: budgetPeriod,
            globalDailyLimit: globalDailyLimit, logger: logger)
    }

    init(
        connection: SQLiteConnection, checkpointer: WALCheckpointer? = nil, budgetPeriod: TimeInterval,
        globalDailyLimit: USDAmount?, logger: Logger
    ) {
        self.globalDailyLimit = globalDailyLimit
        self.connection = connection
        self.checkpointer = checkpointer
        self.budgetPeriod = budgetPeriod
        self.logger = logger
    }

    /// Checkpoints completed by the background checkpointer so far (0 for an in-memory database).
    public var checkpointsDone: Int { checkpointer?.completed ?? 0 }

    /// Closes the connections; the store is unusable afterwards.
    public func close() async throws {
        await checkpointer?.stop()
        try connection.close()
    }

    public func migrate() async throws {
        try await connection.query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)")
        let rows = try await connection.query("SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations")
        let current = rows.first?.int("version") ?? 0
        for step in Migrations.steps(for: .sqlite) where step.version > current {
            try await connection.transaction { db in
                for statement in step.statements { try db.execute(sql: statement) }
                try SQLiteConnection.run(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                    [.integer(step.version), .integer(Self.milliseconds(Date()))], in: db)
            }
            logger.info("applied migration", metadata: ["version": "\(step.version)"])
        }
    }

    public func ping() async throws {
        _ = try await connection.query("SELECT 1")
    }

    // MARK: Users

    public func createUser(name: String, plan: Plan, tokenHash: String) async throws -> User {
        let user = User(id: Identifier.make(), name: name, plan: plan, createdAt: StoredValues.now())
        do {
            _ = try await connection.query(
                "INSERT INTO users (id, name, plan, token_hash, created_at) VALUES (?, ?, ?, ?, ?)",
                [.text(user.id), .text(name), .text(plan.rawValue), .text(tokenHash), .integer(Self.milliseconds(user.createdAt))])
        } catch let error as DatabaseError where error.isConstraintViolation {
            throw StoreError.conflict("a user named \(name) already exists")
        }
        return user
    }

    public func setAllowedModels(userID: String, models: [String]?) async throws {
        _ = try await connection.query(
            "UPDATE users SET allowed_models = ? WHERE id = ?", [Self.optional(models.map(StoredValues.encodeModels)), .text(userID)])
    }

    public func credential(tokenHash: String) async throws -> Credential? {
        try await connection.query(
            """
            SELECT *, NULL AS key_id, NULL AS key_label, NULL AS key_expires_at, NULL AS key_models, NULL AS key_daily, NULL AS key_rpm, NULL AS key_tpm, NULL AS key_parallel FROM users WHERE token_hash = ?
            UNION ALL
            SELECT u.*, k.id AS key_id, k.label AS key_label, k.expires_at AS key_expires_at, k.allowed_models AS key_models, k.daily_usd_limit_picousd AS key_daily, k.requests_per_minute AS key_rpm, k.tokens_per_minute AS key_tpm, k.max_parallel_requests AS key_parallel FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.token_hash = ? AND k.revoked_at IS NULL
            LIMIT 1
            """, [.text(tokenHash), .text(tokenHash)]
        ).first.map(StoredValues.credential)
    }

    public func user(named name: String) async throws -> User? {
        try await connection.query("SELECT * FROM users WHERE name = ?", [.text(name)]).first.map(StoredValues.user)
    }

    public func users() async throws -> [User] {
        try await connection.query("SELECT * FROM users ORDER BY created_at, name").map(StoredValues.user)
    }

    public func setTokenHash(userID: String, tokenHash: String) async throws {
        _ = try await connection.query("UPDATE users SET token_hash = ? WHERE id = ?", [.text(tokenHash), .text(userID)])
    }

    public func userInstructions(userID: String) async throws -> String? {
        try await connection.query("SELECT instructions FROM users WHERE id = ?", [.text(userID)]).first?.string("instructions")
    }

    public func setUserInstructions(userID: String, instructions: String?) async throws {
        _ = try await connection.query("UPDATE users SET instructions = ? WHERE id = ?", [Self.optional(instructions), .text(userID)])
    }

    // MARK: Conversations

    public func createConversation(
        userID: String, title: String, model: String, systemPrompt: String?
    ) async throws -> Conversation {
        let conversation = Conversation.starting(userID: userID, title: title, model: model, systemPrompt: systemPrompt)
        try await createConversation(conversation, messages: [])
        return conversation
    }

    public func createConversation(_ conversation: Conversation, messages: [Message]) async throws {
        let statements = Self.creation(of: conversation, messages: messages)
        if statements.count == 1, let (sql, binds) = statements.first {
            try await connection.query(sql, binds)
            return
        }
        try await connection.transaction { db in try Self.run(statements, in: db) }
    }

    private static let conversationInsert = "INSERT INTO conversations (\(StoredValues.conversationColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"

    /// The statements that store `conversation` (when given), then `messages` — whose trigger moves the
    /// conversation's updated_at on to the newest of them.
    static func creation(of conversation: Conversation?, messages: [Message]) -> [(String, [SQLiteData])] {
        guard let conversation else { return insertions(of: messages) }
        let sql = conversationInsert
        let binds: [SQLiteData] = [
            .text(conversation.id), .text(conversation.userID), .text(conversation.title), .text(conversation.model),
            Self.optional(conversation.systemPrompt), .integer(Self.milliseconds(conversation.createdAt)),
            .integer(Self.milliseconds(conversation.updatedAt)), Self.optional(conversation.endUser),
        ]
        return [(sql, binds)] + insertions(of: messages)
    }

    /// Runs `statements` on a connection already held; single-row ones through the statement cache.
    static func run(_ statements: [(String, [SQLiteData])], in db: Database) throws {
        for (sql, binds) in statements {
            try SQLiteConnection.run(sql, binds, cached: binds.count <= messageColumnCount, in: db)
        }
    }

    public func conversationPage(userID: String, listing: ConversationListing) async throws -> ConversationPage {
        let statement = ConversationPageSQL.statement(userID: userID, listing: listing, dialect: .sqlite)
        return ConversationPageSQL.page(try await connection.query(statement.sql, statement.binds.map(\.sqlite)), listing: listing)
    }

    public func conversation(id: String) async throws -> Conversation? {
        try await connection.query("SELECT * FROM conversations WHERE id = ?", [.text(id)]).first.map(StoredValues.conversation)
    }

    public func searchConversations(userID: String, terms: SearchTerms, limit: Int) async throws -> [ConversationMatch] {
        let patterns = terms.terms.map { SQLiteData.text(SearchTerms.likePattern($0)) }
        return try await connection.query(
            ConversationSearchSQL.statement(termCount: patterns.count, dialect: .sqlite),
            patterns + [.text(userID), .integer(limit)], cached: false
        ).map { ConversationMatch(conversation: StoredValues.conversation($0), message: $0.string("hit")) }
    }

    public func deleteConversation(id: String) async throws {
        try await connection.transaction { db in
            try SQLiteConnection.run("DELETE FROM conversations WHERE id = ?", [.text(id)], in: db)
            try SQLiteConnection.run("DELETE FROM unkept_conversations WHERE conversation_id = ?", [.text(id)], in: db)
        }
    }

    public func markUnkept(conversationID: String, at: Date) async throws {
        _ = try await connection.query(
            "INSERT INTO unkept_conversations (conversation_id, created_at) VALUES (?, ?)",
            [.text(conversationID), .integer(StoredValues.milliseconds(at))])
    }

    public func isUnkept(conversationID: String) async throws -> Bool {
        try await !connection.query(
            "SELECT 1 AS marked FROM unkept_conversations WHERE conversation_id = ?", [.text(conversationID)]).isEmpty
    }

    public func deleteMessages(ids: [String], conversationID: String) async throws {
        guard !ids.isEmpty else { return }
        let placeholders = Array(repeating: "?", count: ids.count).joined(separator: ", ")
        try await connection.transaction { db in
            try SQLiteConnection.run(
                "DELETE FROM messages WHERE conversation_id = ? AND id IN (\(placeholders))",
                [.text(conversationID)] + ids.map { .text($0) }, in: db)
            try SQLiteConnection.run("UPDATE conversations SET thread_key = NULL WHERE id = ?", [.text(conversationID)], in: db)
            try SQLiteConnection.run(
                "DELETE FROM conversations WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM messages WHERE conversation_id = ?1)",
                [.text(conversationID)], in: db)
        }
    }

    public func renameConversation(id: String, title: String) async throws {
        _ = try await connection.query("UPDATE conversations SET title = ? WHERE id = ?", [.text(title), .text(id)])
    }

    public func retitleConversation(id: String, from expected: String, to title: String) async throws -> Bool {
        !(try await connection.query(
            "UPDATE conversations SET title = ? WHERE id = ? AND title = ? RETURNING id", [.text(title), .text(id), .text(expected)]
        ).isEmpty)
    }

    public func pinConversation(id: String, at: Date?) async throws {
        _ = try await connection.query(
            "UPDATE conversations SET pinned_at = ? WHERE id = ?", [at.map { .integer(Self.milliseconds($0)) } ?? .null, .text(id)])
    }

    public func archiveConversation(id: String, at: Date?) async throws {
        _ = try await connection.query(
            """
            UPDATE conversations SET archived_at = ?1, pinned_at = CASE WHEN ?1 IS NULL THEN pinned_at END,
                thread_key = CASE WHEN ?1 IS NULL THEN thread_key END
            WHERE id = ?2
            """,
            [at.map { .integer(Self.milliseconds($0)) } ?? .null, .text(id)])
    }

    public func setConversationModel(id: String, model: String) async throws {
        _ = try await connection.query("UPDATE conversations SET model = ? WHERE id = ?", [.text(model), .text(id)])
    }

    public func setSystemPrompt(id: String, systemPrompt: String?) async throws {
        _ = try await connection.query(
            "UPDATE conversations SET system_prompt = ?, thread_key = NULL WHERE id = ?", [Self.optional(systemPrompt), .text(id)])
    }

    public func setConversationParameters(id: String, parameters: ConversationParameters?) async throws {
        let json = parameters.flatMap { $0.isEmpty ? nil : $0.json }
        _ = try await connection.query("UPDATE conversations SET parameters = ? WHERE id = ?", [Self.optional(json), .text(id)])
    }

    // MARK: Messages

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
    private static func columnValues(_ message: Message) -> [SQLiteData] {
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

extension ConversationPageSQL.Bind {
    /// The value as SQLite binds it.
    var sqlite: SQLiteData {
        switch self {
        case .text(let text): .text(text)
        case .integer(let value): .integer(Int(value))
        }
    }
}
