import Foundation
import SluiceCore
import SluiceTestSupport
import Testing
@testable import SluiceStore

/// A turn's prepared statements on PostgreSQL (`TurnStatement`): prepared once per connection with the types they
/// declare, so that a call whose first use on a connection had `NULL`s still takes values later, and the other way.
@Suite("PostgreSQL prepared statements", .enabled(if: TestDatabases.postgresURL != nil))
struct TurnStatementTests {
    @Test("on one connection, statements first run with NULLs then with values (and back) store what they are given")
    func nullsThenValuesOnOneConnection() async throws {
        let location = try await TestDatabases.makeLocation(.postgres) + "&pool_max=1"
        let store = try await SluiceDatabases.open(location, logger: TestDatabases.quietLogger)
        try await store.migrate()
        let user = try await store.createUser(name: "p", plan: .unlimited, tokenHash: UUID().uuidString)
        let conversation = try await store.createConversation(userID: user.id, title: "t", model: "m", systemPrompt: nil)
        let now = Date()
        func answer() async throws -> Message {
            let message = Message(
                id: Identifier.make(), conversationID: conversation.id, role: .assistant, content: "", status: .streaming,
                model: "m", createdAt: now)
            try await store.insert(message)
            return message
        }
        // Finished without usage, timing or a hold: every number NULL on the statement's first run.
        let bare = try await answer()
        try await store.finish(messageID: bare.id, outcome: AssistantOutcome(
            content: "a", status: .complete, usage: nil, ttftMs: nil, durationMs: nil, finishReason: nil, error: nil))
        // Then a hold settled with everything given, through the same prepared statement.
        var request = BudgetStoreTests.request(user, conversation.id, input: 10, output: 20)
        let full = try await answer()
        request.messageID = full.id
        let hold = try #require(try await store.hold(request, now: now))
        try await store.saveProgress([ProgressUpdate(messageID: full.id, content: "so far", tokenEnds: [2, 6])])
        let usage = Usage(inputTokens: 10, outputTokens: 3, totalTokens: 13, source: .provider)
        try await store.settle(
            holdID: hold.id, inputTokens: 10, outputTokens: 3, cost: USDAmount(picodollars: 42), now: now,
            finishing: AnswerFinish(messageID: full.id, outcome: AssistantOutcome(
                content: "so far.", status: .complete, usage: usage, ttftMs: 12, durationMs: 345, finishReason: "stop",
                error: nil, tokenEnds: [2, 6, 7])))
        let stored = try #require(try await store.message(id: full.id))
        #expect(stored.content == "so far." && stored.usage?.totalTokens == 13 && stored.ttftMs == 12 && stored.durationMs == 345)
        #expect(stored.finishReason == "stop" && stored.tokenEnds == [2, 6, 7])
        #expect(try await store.budget(userID: user.id, now: now).used == 13)
        // And NULLs again after values.
        let last = try await answer()
        try await store.finish(messageID: last.id, outcome: AssistantOutcome(
            content: "b", status: .partial, usage: nil, ttftMs: nil, durationMs: nil, finishReason: nil, error: "cut"))
        let again = try #require(try await store.message(id: last.id))
        #expect(again.status == .partial && again.error == "cut" && again.usage?.totalTokens == nil && again.ttftMs == nil)
        try await store.close()
    }
}
