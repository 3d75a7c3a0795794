import Foundation
import SluiceCore
import SluiceTestSupport
import Testing
@testable import SluiceStore

/// Several instances on one PostgreSQL database: each has its own store (its own pool), as two processes would.
@Suite("Shared PostgreSQL", .enabled(if: TestDatabases.postgresURL != nil))
struct SharedPostgresTests {
    @Test("1 000 concurrent turns on two instances never charge one budget more than its limit")
    func oneBudgetTwoInstances() async throws {
        let location = try await TestDatabases.makeLocation(.postgres)
        let first = try await PostgresStore.open(url: location)
        let second = try await PostgresStore.open(url: location)
        try await first.migrate()
        try await second.migrate()
        let limit = 40_000
        let user = try await first.createUser(name: "shared", plan: .free, tokenHash: "h")
        try await second.setPlan(userID: user.id, plan: .free, tokenLimit: limit)
        let conversation = try await first.createConversation(userID: user.id, title: "t", model: "m", systemPrompt: nil)
        let now = Date()
        // Each turn holds 10 + 90 tokens on one instance and settles on it what it "generated" (1…90).
        let results = try await withThrowingTaskGroup(of: Int?.self) { group in
            for turn in 0..<1000 {
                let store = turn % 2 == 0 ? first : second
                group.addTask {
                    let request = HoldRequest(
                        userID: user.id, conversationID: conversation.id, messageID: "m\(turn)", model: "m",
                        inputTokens: 10, wantedOutput: 90)
                    guard let hold = try await store.hold(request, now: now) else { return nil }
                    let output = min(hold.outputAllowance ?? 90, 1 + turn % 90)
                    try await store.settle(holdID: hold.id, inputTokens: 10, outputTokens: output, cost: .zero, now: now)
                    return 10 + output
                }
            }
            return try await group.reduce(into: [Int?]()) { $0.append($1) }
        }
        let charged = results.compactMap { $0 }.reduce(0, +)
        let budget = try await second.budget(userID: user.id, now: now)
        #expect(charged <= limit)
        #expect(budget.used == charged)
        #expect(try await first.conversationTokens(conversationID: conversation.id) == charged)
        // Not a vacuous bound: the budget was contended (turns were refused), and what is left is exactly the
        // limit minus what was charged — no hold leaked, no settle was lost between the instances.
        #expect(results.contains(nil))
        let rest = try #require(try await first.hold(
            HoldRequest(userID: user.id, conversationID: conversation.id, messageID: "rest", model: "m", inputTokens: 1,
                wantedOutput: 1_000_000), now: now))
        #expect(rest.reservedTokens == limit - charged)
        try await first.close()
        try await second.close()
    }

    @Test("a starting instance marks interrupted only the answers of instances that are gone")
    func recoveryLeavesLiveInstancesAlone() async throws {
        let location = try await TestDatabases.makeLocation(.postgres)
        let writer = try await PostgresStore.open(url: location)
        try await writer.migrate()
        let user = try await writer.createUser(name: "u", plan: .free, tokenHash: "h")
        let conversation = try await writer.createConversation(userID: user.id, title: "t", model: "m", systemPrompt: nil)
        try await writer.insert(Message(
            id: "live", conversationID: conversation.id, role: .assistant, content: "half", status: .streaming, model: "m",
            createdAt: Date()))

        let other = try await PostgresStore.open(url: location)
        try await other.migrate()
        #expect(try await other.recoverInterruptedMessages() == 0)
        #expect(try await other.message(id: "live")?.status == .streaming)

        try await writer.close()
        // The writer left the instance list: this call recovers its answer (unless the other instance's own
        // heartbeat, every 5 s, got there first on a slow machine).
        #expect(try await other.recoverInterruptedMessages() <= 1)
        let recovered = try #require(try await other.message(id: "live"))
        #expect(recovered.status == .partial)
        #expect(recovered.content == "half")
        #expect(recovered.errorCode == "interrupted")
        try await other.close()
    }

    @Test("an instance that stops sending heartbeats is swept by the others")
    func heartbeatSweep() async throws {
        let location = try await TestDatabases.makeLocation(.postgres)
        let survivor = try await PostgresStore.open(url: location, staleAfter: .seconds(1), heartbeatInterval: .milliseconds(200))
        try await survivor.migrate()
        let user = try await survivor.createUser(name: "u", plan: .free, tokenHash: "h")
        let conversation = try await survivor.createConversation(userID: user.id, title: "t", model: "m", systemPrompt: nil)
        // An instance that crashed: registered, wrote an answer, then never came back (no close, no heartbeat).
        try await survivor.rows("INSERT INTO sluice_instances (id, started_at, seen_at) VALUES ('crashed', 0, 0)")
        try await survivor.rows(
            """
            INSERT INTO messages (id, conversation_id, role, content, status, created_at, writer)
            VALUES ('orphan', \(conversation.id), 'assistant', 'cut', 'streaming', 0, 'crashed')
            """)
        // The survivor's own heartbeat finds it; poll the stored state (each heartbeat is 200 ms).
        var status = MessageStatus.streaming
        for _ in 0..<100 where status == .streaming {
            try await Task.sleep(for: .milliseconds(100))
            status = try await survivor.message(id: "orphan")?.status ?? .streaming
        }
        #expect(status == .partial)
        try await survivor.close()
    }
}
