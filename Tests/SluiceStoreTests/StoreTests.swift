import Foundation
import PostgresNIO
import SluiceCore
import SluiceTestSupport
import Testing
@testable import SluiceStore

/// The store suite: every test runs against SQLite and against PostgreSQL (when the test script started one).
@Suite("Store")
struct StoreTests {
    static func makeStore(_ backend: StoreBackend) async throws -> (any SluiceDatabase, String) {
        try await TestDatabases.makeStore(backend)
    }

    /// One text column of every row of `sql`, read straight from the database (to check what is really stored).
    static func column(_ column: String, of sql: String, in store: any SluiceDatabase) async throws -> [String] {
        switch store {
        case let sqlite as SQLiteStore:
            return try await sqlite.connection.query(sql).map { $0.string(column) ?? "" }
        case let postgres as PostgresStore:
            return try await postgres.rows(PostgresQuery(unsafeSQL: sql)).map { $0.string(column) ?? "" }
        default:
            Issue.record("unknown store \(type(of: store))")
            return []
        }
    }

    @Test("the test script's PostgreSQL is there when it promised one")
    func postgresPresent() {
        if TestDatabases.postgresRequired {
            #expect(TestDatabases.postgresURL != nil, "SLUICE_REQUIRE_POSTGRES=1 but SLUICE_TEST_POSTGRES_URL is unset")
            #expect(TestDatabases.backends.contains(.postgres))
        }
    }

    @Test("migrating twice is harmless and the schema version is recorded", arguments: TestDatabases.backends)
    func migrateTwice(_ backend: StoreBackend) async throws {
        let (store, _) = try await Self.makeStore(backend)
        try await store.migrate()
        let versions = try await Self.column("version", of: "SELECT CAST(version AS TEXT) AS version FROM schema_migrations ORDER BY version", in: store)
        #expect(versions.compactMap { Int($0) }.sorted() == Array(1...70))
        try await store.close()
    }

    @Test("users are found by token hash and names are unique", arguments: TestDatabases.backends)
    func users(_ backend: StoreBackend) async throws {
        let (store, _) = try await Self.makeStore(backend)
        let token = AccessToken.generate()
        let user = try await store.createUser(name: "ada", plan: .pro, tokenHash: AccessToken.hash(token))
        #expect(try await store.user(tokenHash: AccessToken.hash(token)) == user)
        #expect(try await store.user(tokenHash: AccessToken.hash("wrong")) == nil)
        await #expect(throws: StoreError.self) {
            _ = try await store.createUser(name: "ada", plan: .free, tokenHash: AccessToken.hash("other"))
        }
        let newToken = AccessToken.generate()
        try await store.setTokenHash(userID: user.id, tokenHash: AccessToken.hash(newToken))
        #expect(try await store.user(tokenHash: AccessToken.hash(token)) == nil)
        #expect(try await store.user(tokenHash: AccessToken.hash(newToken))?.id == user.id)
        try await store.close()
    }

    @Test("tokens are random, URL-safe, and only their hash is stored", arguments: TestDatabases.backends)
    func tokens(_ backend: StoreBackend) async throws {
        let (store, _) = try await Self.makeStore(backend)
        let token = AccessToken.generate()
        #expect(token != AccessToken.generate())
        #expect(token.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" })
        _ = try await store.createUser(name: "grace", plan: .free, tokenHash: AccessToken.hash(token))
        let stored = try await Self.column("token_hash", of: "SELECT token_hash FROM users", in: store)
        #expect(stored == [AccessToken.hash(token)])
        try await store.close()
    }

    @Test("messages keep their order and the outcome of an answer is stored", arguments: TestDatabases.backends)
    func messages(_ backend: StoreBackend) async throws {
        let (store, _) = try await Self.makeStore(backend)
        let user = try await store.createUser(name: "u", plan: .free, tokenHash: "h")
        let conversation = try await store.createConversation(userID: user.id, title: "t", model: "m", systemPrompt: "be brief")
        let now = Date()
        let question = Message(id: "q", conversationID: conversation.id, role: .user, content: "hi", status: .complete, model: nil, createdAt: now)
        let answer = Message(id: "a", conversationID: conversation.id, role: .assistant, content: "", status: .streaming, model: "m", createdAt: now)
        try await store.insert(question)
        try await store.insert(answer)
        try await store.saveProgress([ProgressUpdate(messageID: "a", content: "Hél", tokenEnds: [1, 4])])
        #expect(try await store.message(id: "a")?.content == "Hél")
        #expect(try await store.message(id: "a")?.tokens(after: 0) == ["H", "él"])
        #expect(try await store.message(id: "a")?.tokens(after: 1) == ["él"])
        #expect(try await store.message(id: "a")?.tokens(after: 2) == [])
        let outcome = AssistantOutcome(
            content: "Hello", status: .complete, usage: Usage(inputTokens: 5, outputTokens: 2, totalTokens: 7),
            ttftMs: 12, durationMs: 40, finishReason: "stop", error: nil, tokenEnds: [3, 5])
        try await store.finish(messageID: "a", outcome: outcome)
        // Progress that arrives after the end (a batch already under way) does not undo the final write.
        try await store.saveProgress([ProgressUpdate(messageID: "a", content: "Hé", tokenEnds: [1, 3])])
        let stored = try await store.messages(conversationID: conversation.id)
        #expect(stored.map(\.id) == ["q", "a"])
        #expect(stored[1].content == "Hello")
        #expect(stored[1].status == .complete)
        #expect(stored[1].usage == Usage(inputTokens: 5, outputTokens: 2, totalTokens: 7))
        #expect(stored[1].ttftMs == 12)
        #expect(stored[1].finishReason == "stop")
        #expect(stored[0].usage == nil)
        #expect(stored[1].tokenEnds == [3, 5])
        #expect(stored[1].tokens(after: 0) == ["Hel", "lo"])
        #expect(try await store.conversation(id: conversation.id)?.systemPrompt == "be brief")
        try await store.close()
    }

    @Test("a history of 1 200 messages is stored in order by the batch insert, which touches the conversation", arguments: TestDatabases.backends)
    func batchInsert(_ backend: StoreBackend) async throws {
        let (store, _) = try await Self.makeStore(backend)
        let user = try await store.createUser(name: "u", plan: .free, tokenHash: "h")
        let conversation = try await store.createConversation(userID: user.id, title: "t", model: "m", systemPrompt: nil)
        let start = Date(timeIntervalSince1970: Double(Int(Date().timeIntervalSince1970)) + 60)
        // Over both stores' rows per statement (500 and 1 000), with quotes, empty and non-ASCII text.
        var history: [Message] = []
        for index in 0..<1200 {
            let role: MessageRole = index % 2 == 0 ? .user : .assistant
            let content = index % 3 == 0 ? "" : "it's «\(index)» 😀"
            history.append(Message(
                id: "m\(index)", conversationID: conversation.id, role: role, content: content, status: .complete,
                model: role == .assistant ? "m" : nil, createdAt: start.addingTimeInterval(Double(index) * 0.001)))
        }
        try await store.insert(history)
        try await store.insert([])
        let stored = try await store.messages(conversationID: conversation.id)
        #expect(stored.map(\Message.id) == history.map(\Message.id))
        #expect(stored.map(\.content) == history.map(\.content))
        #expect(stored.map(\.role) == history.map(\.role))
        #expect(stored.map(\.model) == history.map(\.model))
        // Stored in whole milliseconds.
        func ms(_ date: Date?) -> Int? { date.map { Int(($0.timeIntervalSince1970 * 1000).rounded()) } }
        #expect(ms(stored.last?.createdAt) == ms(history.last?.createdAt))
        #expect(ms(try await store.conversation(id: conversation.id)?.updatedAt) == ms(history.last?.createdAt))
        try await store.close()
    }

    @Test("a new conversation is stored with its first messages in one step, or not at all", arguments: TestDatabases.backends)
    func conversationWithMessages(_ backend: StoreBackend) async throws {
        let (store, _) = try await Self.makeStore(backend)
        let user = try await store.createUser(name: "u", plan: .free, tokenHash: "h")
        let conversation = Conversation.starting(
            userID: user.id, title: "API: hi", model: "m", systemPrompt: "be brief", endUser: "customer-7")
        let later = conversation.createdAt.addingTimeInterval(2)
        let messages = [
            Message(id: Identifier.make(), conversationID: conversation.id, role: .user, content: "earlier", status: .complete, model: nil, createdAt: conversation.createdAt),
            Message(id: Identifier.make(), conversationID: conversation.id, role: .user, content: "now", status: .complete, model: nil, createdAt: later),
        ]
        try await store.createConversation(conversation, messages: messages)
        let stored = try #require(try await store.conversation(id: conversation.id))
        #expect(stored.title == "API: hi" && stored.systemPrompt == "be brief" && stored.createdAt == conversation.createdAt)
        #expect(stored.endUser == "customer-7")
        // Touched by its newest message, like any insert.
        #expect(stored.updatedAt == later)
        #expect(try await store.messages(conversationID: conversation.id).map(\.content) == ["earlier", "now"])
        // A message that cannot be stored (its id is taken) takes the conversation with it.
        let second = Conversation.starting(userID: user.id, title: "other", model: "m", systemPrompt: nil)
        var clash = messages[0]
        clash.conversationID = second.id
        await #expect(throws: (any Error).self) { try await store.createConversation(second, messages: [clash]) }
        #expect(try await store.conversation(id: second.id) == nil)
        #expect(try await store.conversations(userID: user.id).map(\.id) == [conversation.id])
        try await store.close()
    }

    @Test("regenerated versions added while other turns write are each atomic, and none of them fails", arguments: TestDatabases.backends)
    func concurrentVersions(_ backend: StoreBackend) async throws {
        let (store, _) = try await Self.makeStore(backend)
        let user = try await store.createUser(name: "u", plan: .free, tokenHash: "h")
        let conversation = try await store.createConversation(userID: user.id, title: "t", model: "m", systemPrompt: nil)
        let now = Date()
        func answer(_ id: String, _ content: String) -> Message {
            Message(id: id, conversationID: conversation.id, role: .assistant, content: content, status: .complete,
                    model: "m", createdAt: now)
        }
        let originals = (0..<40).map { answer("a\($0)", "first \($0)") }
        try await store.insert(originals)
        // Each regenerate is a transaction (mark the old versions, insert the new one); the other turns' single
        // statements run meanwhile on the same store.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, original) in originals.enumerated() {
                group.addTask { try await store.addVersion(answer("v\(index)", "second \(index)"), replacing: original) }
                group.addTask { try await store.insert(answer("other\(index)", "other \(index)")) }
                group.addTask {
                    try await store.saveProgress([ProgressUpdate(messageID: original.id, content: "first \(index)", tokenEnds: [5])])
                }
            }
            try await group.waitForAll()
        }
        for index in originals.indices {
            let versions = try await store.versions(group: "a\(index)")
            #expect(versions.map(\.id).sorted() == ["a\(index)", "v\(index)"])
            #expect(versions.filter(\.superseded).map(\.id) == ["a\(index)"])
        }
        #expect(try await store.messages(conversationID: conversation.id).count == 120)
        try await store.close()
    }

    @Test("conversations list newest first per user, keep the model last picked, and deleting one removes its messages", arguments: TestDatabases.backends)
    func conversations(_ backend: StoreBackend) async throws {
        let (store, _) = try await Self.makeStore(backend)
        let alice = try await store.createUser(name: "alice", plan: .free, tokenHash: "a")
        let bob = try await store.createUser(name: "bob", plan: .free, tokenHash: "b")
        let first = try await store.createConversation(userID: alice.id, title: "first", model: "m", systemPrompt: nil)
        let second = try await store.createConversation(userID: alice.id, title: "second", model: "m", systemPrompt: nil)
        _ = try await store.createConversation(userID: bob.id, title: "bob's", model: "m", systemPrompt: nil)
        #expect(try await store.conversations(userID: alice.id).map(\.title) == ["second", "first"])
        // A new message moves its conversation to the top.
        try await store.insert(Message(id: "x", conversationID: first.id, role: .user, content: "x", status: .complete, model: nil, createdAt: Date().addingTimeInterval(1)))
        #expect(try await store.conversations(userID: alice.id).map(\.id) == [first.id, second.id])
        // A message with another model makes it the conversation's; the other conversation keeps its own.
        try await store.setConversationModel(id: first.id, model: "other/model-2")
        #expect(try await store.conversation(id: first.id)?.model == "other/model-2")
        #expect(try await store.conversation(id: second.id)?.model == "m")
        try await store.deleteConversation(id: first.id)
        #expect(try await store.conversation(id: first.id) == nil)
        #expect(try await store.message(id: "x") == nil)
        try await store.close()
    }

    @Test("answers left streaming by a crash become partial at the next start, text kept", arguments: TestDatabases.backends)
    func recovery(_ backend: StoreBackend) async throws {
        let (store, path) = try await Self.makeStore(backend)
        let user = try await store.createUser(name: "u", plan: .free, tokenHash: "h")
        let conversation = try await store.createConversation(userID: user.id, title: "t", model: "m", systemPrompt: nil)
        try await store.insert(Message(id: "a", conversationID: conversation.id, role: .assistant, content: "half an ans", status: .streaming, model: "m", createdAt: Date()))
        try await store.insert(Message(id: "b", conversationID: conversation.id, role: .assistant, content: "done", status: .complete, model: "m", createdAt: Date()))
        try await store.close()

        let reopened = try await SluiceDatabases.open(path)
        try await reopened.migrate()
        #expect(try await reopened.recoverInterruptedMessages() == 1)
        let message = try #require(try await reopened.message(id: "a"))
        #expect(message.status == .partial)
        #expect(message.content == "half an ans")
        #expect(message.error != nil)
        #expect(message.errorCode == "interrupted")
        #expect(try await reopened.message(id: "b")?.status == .complete)
        #expect(try await reopened.recoverInterruptedMessages() == 0)
        try await reopened.close()
    }

    @Test("context modes and running summaries persist; a summary goes with its conversation", arguments: TestDatabases.backends)
    func contextModesAndSummaries(_ backend: StoreBackend) async throws {
        let (store, _) = try await Self.makeStore(backend)
        let user = try await store.createUser(name: "u", plan: .free, tokenHash: "h")
        let conversation = try await store.createConversation(userID: user.id, title: "t", model: "m", systemPrompt: nil)
        try await store.insert(Message(id: "q", conversationID: conversation.id, role: .user, content: "hi", status: .complete, model: nil, createdAt: Date()))
        #expect(try await store.message(id: "q")?.contextMode == .auto)
        try await store.setContextMode(messageID: "q", mode: .pinned)
        #expect(try await store.message(id: "q")?.contextMode == .pinned)
        await #expect(throws: StoreError.notFound) { try await store.setContextMode(messageID: "nope", mode: .excluded) }

        #expect(try await store.summary(conversationID: conversation.id) == nil)
        let first = ConversationSummary(text: "one", coveredMessageIDs: ["q"], model: "m", updatedAt: Date(timeIntervalSince1970: 1_000))
        try await store.saveSummary(conversationID: conversation.id, summary: first)
        #expect(try await store.summary(conversationID: conversation.id) == first)
        let second = ConversationSummary(text: "two", coveredMessageIDs: ["q", "r"], model: nil, updatedAt: Date(timeIntervalSince1970: 2_000))
        try await store.saveSummary(conversationID: conversation.id, summary: second)
        #expect(try await store.summary(conversationID: conversation.id) == second)
        try await store.deleteConversation(id: conversation.id)
        #expect(try await store.summary(conversationID: conversation.id) == nil)
        try await store.close()
    }
}

@Suite("Opening a database")
struct DatabaseLocationTests {
    @Test("a postgres:// URL is parsed like libpq's, and bad settings are named")
    func urls() throws {
        let configuration = try PostgresURL.configuration("postgres://ann:p%40ss@db.example:6543/chat?sslmode=disable&pool_max=40")
        #expect(configuration.host == "db.example")
        #expect(configuration.port == 6543)
        #expect(configuration.username == "ann")
        #expect(configuration.password == "p@ss")
        #expect(configuration.database == "chat")
        #expect(configuration.options.maximumConnections == 40)
        #expect(throws: PostgresURL.ConnectError.self) { try PostgresURL.configuration("postgres://h/db?sslmode=sometimes") }
        #expect(throws: PostgresURL.ConnectError.self) { try PostgresURL.configuration("postgres://h/db?pool_max=0") }
        #expect(throws: PostgresURL.ConnectError.self) { try PostgresURL.configuration("postgres:///db") }
        #expect(SluiceDatabases.redacted("postgres://ann:secret@h:5432/db") == "postgres://ann:***@h:5432/db")
        #expect(SluiceDatabases.redacted("./data/sluice.sqlite") == "./data/sluice.sqlite")
        #expect(SluiceDatabases.isPostgres("postgresql://h/db") && !SluiceDatabases.isPostgres("postgres.sqlite"))
    }

    @Test("a PostgreSQL that does not answer is an error at start that names it without the password, not a hang")
    func unreachable() async throws {
        // Port 1 on loopback refuses every connection; postgres-nio's pool would retry it for ever.
        do {
            _ = try await SluiceDatabases.open("postgres://ann:secret@127.0.0.1:1/chat?sslmode=disable")
            Issue.record("opening an unreachable database succeeded")
        } catch {
            let message = String(describing: error)
            #expect(message.contains("127.0.0.1:1"))
            #expect(message.contains("did not answer"))
            #expect(!message.contains("secret"))
        }
    }
}
