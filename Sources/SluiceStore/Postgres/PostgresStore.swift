import Foundation
import Logging
import PostgresNIO
import SluiceCore
import Synchronization

/// The shared store: PostgreSQL through postgres-nio's connection pool, so that several Sluice instances serve
/// the same users, conversations and budgets. Same schema steps as `SQLiteStore` (see `Migrations`).
///
/// Each instance registers itself in `sluice_instances` and refreshes its `seen_at` every few seconds; the
/// answers it writes carry its id. Crash recovery (at start, and in every heartbeat) marks interrupted only
/// the answers of instances that stopped or fell silent, never those another live instance is writing.
public final class PostgresStore: SluiceDatabase {
    let client: PostgresClient
    let logger: Logger
    /// This process's id in `sluice_instances` and in `messages.writer`.
    let instanceID = Identifier.make()
    /// How long a token budget period lasts; periods end on multiples of it since 1970 (daily: UTC midnight).
    let budgetPeriod: TimeInterval
    /// The whole service's daily spending limit (`nil`: none).
    let globalDailyLimit: USDAmount?
    /// Users whose budget period is known not to have ended (see `ResetCache`).
    let resetCache = ResetCache()
    /// After this long without a heartbeat an instance counts as gone and its streaming answers as interrupted.
    let staleAfter: Duration
    let heartbeatInterval: Duration
    /// How often `watchStopRequests` looks for stop requests without being notified.
    let stopPollInterval: Duration
    /// Run the pool and the heartbeat; cancelled by `close()`. Unstructured tasks so that the store has the
    /// same open/close life as `SQLiteStore`; both end before `close()` returns.
    private let pool: Task<Void, Never>
    private let heartbeats: Task<Void, Never>
    /// Starts the heartbeat once `migrate()` has created the instance table.
    private let migrated: AsyncStream<Void>.Continuation
    /// Whether this instance has registered in `sluice_instances` (and must leave it at `close()`).
    private let registered = Mutex(false)

    /// Connects to `url` (`postgres://user:password@host:port/database?sslmode=disable&pool_max=40`) and checks
    /// that the server answers; call `migrate()` before use.
    public static func open(
        url: String, budgetPeriod: TimeInterval = 86_400, globalDailyLimit: USDAmount? = nil,
        staleAfter: Duration = .seconds(30), heartbeatInterval: Duration = .seconds(5),
        stopPollInterval: Duration = .seconds(1), logger: Logger = Logger(label: "sluice.store")
    ) async throws -> PostgresStore {
        let configuration = try PostgresURL.configuration(url)
        let store = PostgresStore(
            client: PostgresClient(configuration: configuration, backgroundLogger: logger), budgetPeriod: budgetPeriod,
            globalDailyLimit: globalDailyLimit, staleAfter: staleAfter, heartbeatInterval: heartbeatInterval,
            stopPollInterval: stopPollInterval, logger: logger)
        do {
            // postgres-nio's pool retries a failing connect without end (vapor/postgres-nio#489): bound the
            // first query, so that a wrong host, port or database is an error at start and not a hang. Not `ping()`'s
            // 5 s: a new connection to a busy server (a fork, authentication) may take longer than a query on one.
            try await Self.within(.seconds(10), or: PostgresURL.ConnectError("no answer within 10 s")) {
                try await store.execute("SELECT 1")
            }
        } catch {
            try? await store.close()
            throw PostgresURL.ConnectError(
                "PostgreSQL at \(SluiceDatabases.redacted(url)) did not answer (\(String(reflecting: error))); check that it runs and that the URL's user, password and database are right")
        }
        return store
    }

    init(
        client: PostgresClient, budgetPeriod: TimeInterval, globalDailyLimit: USDAmount?, staleAfter: Duration,
        heartbeatInterval: Duration, stopPollInterval: Duration, logger: Logger
    ) {
        self.client = client
        self.budgetPeriod = budgetPeriod
        self.globalDailyLimit = globalDailyLimit
        self.staleAfter = staleAfter
        self.heartbeatInterval = heartbeatInterval
        self.stopPollInterval = stopPollInterval
        self.logger = logger
        let instanceID = instanceID
        let (migration, migrated) = AsyncStream<Void>.makeStream()
        self.migrated = migrated
        pool = Task { await client.run() }
        heartbeats = Task { [client, logger] in
            for await _ in migration { break }
            while !Task.isCancelled {
                try? await Task.sleep(for: heartbeatInterval)
                guard !Task.isCancelled else { break }
                do {
                    try await Self.heartbeat(client: client, instanceID: instanceID)
                    let recovered = try await Self.recoverAbandoned(client: client, staleAfter: staleAfter)
                    if recovered > 0 {
                        logger.warning("answers of a stopped instance marked interrupted", metadata: ["count": "\(recovered)"])
                    }
                } catch where !Task.isCancelled {
                    logger.warning("heartbeat failed", metadata: ["error": "\(String(reflecting: error))"])
                } catch {}
            }
        }
    }

    /// Leaves the instance list (so that others may recover what this instance left streaming) and closes
    /// every connection.
    public func close() async throws {
        // Heartbeats stop first: one in flight after the DELETE would register this instance again.
        heartbeats.cancel()
        await heartbeats.value
        if registered.withLock({ $0 }) {
            // Bounded: with the database gone, stopping must not wait for it (the others' sweep covers it).
            let client = client, instanceID = instanceID
            try? await Self.within(.seconds(3), or: StoreError.unavailable("no answer")) {
                try await client.query("DELETE FROM sluice_instances WHERE id = \(instanceID)")
            }
        }
        pool.cancel()
        await pool.value
    }

    public func migrate() async throws {
        try await client.withTransaction(logger: logger) { connection in
            // One instance migrates at a time; the others wait here and then find nothing left to do.
            try await connection.query("SELECT pg_advisory_xact_lock(7362837)", logger: logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
                logger: logger)
            let rows = try await connection.query(
                "SELECT COALESCE(MAX(version), 0)::bigint AS version FROM schema_migrations", logger: logger
            ).collect()
            let current = rows.first?.makeRandomAccess().int("version") ?? 0
            for step in Migrations.steps(for: .postgres) where step.version > current {
                for statement in step.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (\(step.version), \(StoredValues.milliseconds(Date())))",
                    logger: logger)
                self.logger.info("applied migration", metadata: ["version": "\(step.version)"])
            }
        }
        try await Self.heartbeat(client: client, instanceID: instanceID)
        registered.withLock { $0 = true }
        migrated.yield()
    }

    /// Answers within 5 s or throws (for `/readyz`: a load balancer must get an answer, not a hang).
    public func ping() async throws {
        try await Self.within(.seconds(5), or: StoreError.unavailable("PostgreSQL did not answer within 5 s")) {
            try await self.execute("SELECT 1")
        }
    }

    /// Runs `body`, or throws `error` when it has not finished after `limit` (and cancels it).
    static func within(
        _ limit: Duration, or error: some Error & Sendable, _ body: @escaping @Sendable () async throws -> Void
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: limit)
                throw error
            }
            try await group.next()
            group.cancelAll()
        }
    }

    /// Runs `query` and reads every row by column name.
    @discardableResult
    func rows(_ query: PostgresQuery) async throws -> [PostgresRandomAccessRow] {
        try await reportingUnavailable { try await client.query(query, logger: logger).collect().map { $0.makeRandomAccess() } }
    }

    /// Runs one of a turn's prepared statements and reads its rows by column name.
    @discardableResult
    func run<Statement: TurnStatement>(_ statement: Statement) async throws -> [PostgresRandomAccessRow] {
        try await reportingUnavailable {
            try await client.execute(statement, logger: logger).reduce(into: []) { $0.append($1) }
        }
    }

    /// Runs a statement whose rows are not needed.
    func execute(_ query: PostgresQuery, logger: Logger? = nil) async throws {
        try await reportingUnavailable { _ = try await client.query(query, logger: logger ?? self.logger).collect() }
    }

    /// Runs `body` in one transaction (committed when it returns, rolled back when it throws).
    func transaction<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        try await reportingUnavailable { try await client.withTransaction(logger: logger) { try await body($0) } }
    }

    /// Connection failures become `StoreError.unavailable`, which the HTTP layer answers with 503 and a message
    /// a person can act on; other errors (a constraint, a bad statement) pass through.
    private func reportingUnavailable<Result>(_ body: () async throws -> Result) async throws -> Result {
        do {
            return try await body()
        } catch let error as PSQLError where error.code == .connectionError || error.code == .serverClosedConnection
            || error.code == .clientClosedConnection
        {
            throw StoreError.unavailable("the connection to PostgreSQL failed")
        } catch let error where String(reflecting: type(of: error)).contains("ConnectionPoolError") {
            // postgres-nio's pool reports "cannot connect" with a type from an internal module, hence by name.
            throw StoreError.unavailable("PostgreSQL is not accepting connections")
        }
    }

    static func heartbeat(client: PostgresClient, instanceID: String) async throws {
        let now = StoredValues.milliseconds(Date())
        try await client.query(
            """
            INSERT INTO sluice_instances (id, started_at, seen_at) VALUES (\(instanceID), \(now), \(now))
            ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at
            """)
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
        try await commit(creation(of: conversation, messages: messages))
    }

    /// Runs `queries` and commits them: one alone (autocommitted, one round trip), several in one transaction.
    func commit(_ queries: [PostgresQuery]) async throws {
        if queries.count == 1, let query = queries.first { return try await execute(query, logger: logger) }
        let logger = logger
        try await transaction { connection in
            for query in queries { try await connection.query(query, logger: logger) }
        }
    }

    /// The statements that store `conversation` (when given), then `messages`: one round trip when they fit one
    /// statement (the conversation's insert a data-modifying WITH of the messages' insert).
    func creation(of conversation: Conversation?, messages: [Message]) -> [PostgresQuery] {
        if !messages.isEmpty, messages.count <= Self.messagesPerStatement {
            return [insertion(of: messages, creating: conversation)]
        }
        let chunks = stride(from: 0, to: messages.count, by: Self.messagesPerStatement).map {
            insertion(of: messages[$0..<min($0 + Self.messagesPerStatement, messages.count)])
        }
        guard let conversation else { return chunks }
        let created = StoredValues.milliseconds(conversation.createdAt)
        let updated = StoredValues.milliseconds(conversation.updatedAt)
        let insert: PostgresQuery = """
            INSERT INTO conversations (\(unescaped: StoredValues.conversationColumns))
            VALUES (\(conversation.id), \(conversation.userID), \(conversation.title), \(conversation.model),
                \(conversation.systemPrompt), \(created), \(updated), \(conversation.endUser))
            """
        return [insert] + chunks
    }

    public func conversationPage(userID: String, listing: ConversationListing) async throws -> ConversationPage {
        let statement = ConversationPageSQL.statement(userID: userID, listing: listing, dialect: .postgres)
        var bindings = PostgresBindings()
        for bind in statement.binds {
            switch bind {
            case .text(let text): bindings.append(text)
            case .integer(let value): bindings.append(value)
            }
        }
        return ConversationPageSQL.page(try await rows(PostgresQuery(unsafeSQL: statement.sql, binds: bindings)), listing: listing)
    }

    public func conversation(id: String) async throws -> Conversation? {
        try await rows("SELECT * FROM conversations WHERE id = \(id)").first.map(StoredValues.conversation)
    }

    public func searchConversations(userID: String, terms: SearchTerms, limit: Int) async throws -> [ConversationMatch] {
        var bindings = PostgresBindings()
        for term in terms.terms { bindings.append(SearchTerms.likePattern(term)) }
        bindings.append(userID)
        bindings.append(limit)
        return try await rows(PostgresQuery(
            unsafeSQL: ConversationSearchSQL.statement(termCount: terms.terms.count, dialect: .postgres), binds: bindings)
        ).map { ConversationMatch(conversation: StoredValues.conversation($0), message: $0.string("hit")) }
    }

    public func claimThread(userID: String, threadKey: String) async throws -> Conversation? {
        // `thread_key` is checked again on the row itself: a concurrent claim that took it first leaves NULL there.
        try await rows(
            """
            UPDATE conversations SET thread_key = NULL
            WHERE thread_key = \(threadKey) AND id = (
                SELECT id FROM conversations WHERE user_id = \(userID) AND thread_key = \(threadKey)
                ORDER BY updated_at DESC, seq DESC LIMIT 1)
            RETURNING *
            """
        ).first.map(StoredValues.conversation)
    }

    public func setThreadKey(conversationID: String, threadKey: String?) async throws {
        try await execute("UPDATE conversations SET thread_key = \(threadKey) WHERE id = \(conversationID)", logger: logger)
    }

    public func deleteConversation(id: String) async throws {
        try await execute(
            """
            WITH unmarked AS (DELETE FROM unkept_conversations WHERE conversation_id = \(id))
            DELETE FROM conversations WHERE id = \(id)
            """, logger: logger)
    }

    public func markUnkept(conversationID: String, at: Date) async throws {
        try await execute(
            "INSERT INTO unkept_conversations (conversation_id, created_at) VALUES (\(conversationID), \(StoredValues.milliseconds(at)))",
            logger: logger)
    }

    public func isUnkept(conversationID: String) async throws -> Bool {
        try await !rows("SELECT 1 AS marked FROM unkept_conversations WHERE conversation_id = \(conversationID)").isEmpty
    }

    public func deleteMessages(ids: [String], conversationID: String) async throws {
        guard !ids.isEmpty else { return }
        try await transaction { connection in
            _ = try await connection.query(
                "DELETE FROM messages WHERE conversation_id = \(conversationID) AND id = ANY(\(ids))", logger: logger)
            _ = try await connection.query("UPDATE conversations SET thread_key = NULL WHERE id = \(conversationID)", logger: logger)
            _ = try await connection.query(
                """
                DELETE FROM conversations
                WHERE id = \(conversationID) AND NOT EXISTS (SELECT 1 FROM messages WHERE conversation_id = \(conversationID))
                """, logger: logger)
        }
    }

    public func renameConversation(id: String, title: String) async throws {
        try await execute("UPDATE conversations SET title = \(title) WHERE id = \(id)", logger: logger)
    }

    public func retitleConversation(id: String, from expected: String, to title: String) async throws -> Bool {
        !(try await rows("UPDATE conversations SET title = \(title) WHERE id = \(id) AND title = \(expected) RETURNING id").isEmpty)
    }

    public func pinConversation(id: String, at: Date?) async throws {
        try await execute("UPDATE conversations SET pinned_at = \(at.map(StoredValues.milliseconds)) WHERE id = \(id)", logger: logger)
    }

    public func archiveConversation(id: String, at: Date?) async throws {
        let moment = at.map(StoredValues.milliseconds)
        try await execute(
            """
            UPDATE conversations SET archived_at = \(moment),
                pinned_at = CASE WHEN \(moment)::bigint IS NULL THEN pinned_at END,
                thread_key = CASE WHEN \(moment)::bigint IS NULL THEN thread_key END
            WHERE id = \(id)
            """, logger: logger)
    }

    public func setConversationModel(id: String, model: String) async throws {
        try await execute("UPDATE conversations SET model = \(model) WHERE id = \(id)", logger: logger)
    }

    public func setSystemPrompt(id: String, systemPrompt: String?) async throws {
        try await execute(
            "UPDATE conversations SET system_prompt = \(systemPrompt), thread_key = NULL WHERE id = \(id)", logger: logger)
    }

    public func setConversationParameters(id: String, parameters: ConversationParameters?) async throws {
        let json = parameters.flatMap { $0.isEmpty ? nil : $0.json }
        try await execute("UPDATE conversations SET parameters = \(json) WHERE id = \(id)", logger: logger)
    }
}
