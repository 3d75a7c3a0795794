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
        var user = User(id: Identifier.make(), name: name, plan: plan, createdAt: StoredValues.now())
        do {
            let rows = try await connection.query(
                """
                INSERT INTO users (id, name, plan, token_hash, created_at, is_admin)
                VALUES (?, ?, ?, ?, ?, CASE WHEN EXISTS (SELECT 1 FROM users) THEN 0 ELSE 1 END) RETURNING is_admin
                """,
                [.text(user.id), .text(name), .text(plan.rawValue), .text(tokenHash), .integer(Self.milliseconds(user.createdAt))])
            user.isAdmin = rows.first?.int("is_admin") == 1
        } catch let error as DatabaseError where error.isConstraintViolation {
            throw StoreError.conflict("a user named \(name) already exists")
        }
        return user
    }

    public func setSuspended(userID: String, suspended: Bool) async throws {
        _ = try await connection.query(
            // Restored is approved too (`pending`, step 57).
            suspended ? "UPDATE users SET suspended_at = ? WHERE id = ?" : "UPDATE users SET suspended_at = ?, pending = 0 WHERE id = ?",
            [suspended ? .integer(Self.milliseconds(StoredValues.now())) : .null, .text(userID)])
    }

    public func deleteUser(userID: String) async throws -> Bool {
        // No longer an administrator first: refused, in one statement, for the last one.
        guard try await setAdmin(userID: userID, isAdmin: false) else { return false }
        let now = Self.milliseconds(StoredValues.now())
        try await connection.transaction { db in
            let user: [SQLiteData] = [.text(userID)]
            try SQLiteConnection.run(
                "DELETE FROM unkept_conversations WHERE conversation_id IN (SELECT id FROM conversations WHERE user_id = ?)", user, in: db)
            for table in ["conversations", "projects", "saved_prompts", "memories", "identities", "response_cache", "sessions", "two_step", "recovery_codes", "security_events"] {
                try SQLiteConnection.run("DELETE FROM \(table) WHERE user_id = ?", user, in: db)
            }
            try SQLiteConnection.run(
                "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE user_id = ?", [.integer(now), .text(userID)], in: db)
            try SQLiteConnection.run(
                """
                UPDATE users SET name = ?, token_hash = ?, deleted_at = ?, suspended_at = COALESCE(suspended_at, ?),
                    instructions = NULL, allowed_models = NULL, password_hash = NULL, team_id = NULL WHERE id = ?
                """,
                [.text(Migrations.deletedNamePrefix + userID), .text("deleted:" + Identifier.make()), .integer(now),
                 .integer(now), .text(userID)],
                in: db)
        }
        return true
    }

    public func setAdmin(userID: String, isAdmin: Bool) async throws -> Bool {
        !(try await connection.query(
            "UPDATE users SET is_admin = ?1 WHERE id = ?2 AND (?1 = 1 OR is_admin = 0 OR EXISTS (\(StoredValues.anotherActiveAdmin("?2")))) RETURNING id",
            [.integer(isAdmin ? 1 : 0), .text(userID)]
        ).isEmpty)
    }

    public func setAllowedModels(userID: String, models: [String]?) async throws {
        _ = try await connection.query(
            "UPDATE users SET allowed_models = ? WHERE id = ?", [Self.optional(models.map(StoredValues.encodeModels)), .text(userID)])
    }

    public func credential(tokenHash: String) async throws -> Credential? {
        try await connection.query(
            """
            SELECT *, NULL AS key_id, NULL AS key_label, NULL AS key_expires_at, NULL AS key_models, NULL AS key_daily, NULL AS key_rpm, NULL AS key_tpm, NULL AS key_parallel, NULL AS key_tags, \(StoredValues.teamModelsColumn(of: "users")) FROM users WHERE token_hash = ?
            UNION ALL
            SELECT u.*, k.id AS key_id, k.label AS key_label, k.expires_at AS key_expires_at, k.allowed_models AS key_models, k.daily_usd_limit_picousd AS key_daily, k.requests_per_minute AS key_rpm, k.tokens_per_minute AS key_tpm, k.max_parallel_requests AS key_parallel, k.tags AS key_tags, \(StoredValues.teamModelsColumn(of: "u")) FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.token_hash = ? AND k.revoked_at IS NULL
            UNION ALL
            SELECT u.*, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, \(StoredValues.teamModelsColumn(of: "u")) FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ? AND s.expires_at > ?
            LIMIT 1
            """, [.text(tokenHash), .text(tokenHash), .text(tokenHash), .integer(Self.milliseconds(StoredValues.now()))]
        ).first.map(StoredValues.credential)
    }

    public func user(named name: String) async throws -> User? {
        try await connection.query("SELECT * FROM users WHERE name = ?", [.text(name)]).first.map(StoredValues.user)
    }

    public func users() async throws -> [User] {
        try await connection.query("SELECT * FROM users WHERE deleted_at IS NULL ORDER BY created_at, name").map(StoredValues.user)
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
