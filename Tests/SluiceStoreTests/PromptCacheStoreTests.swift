import Foundation
import SluiceCore
import SluiceTestSupport
import Testing
@testable import SluiceStore

/// Schema step 33 on both databases: the prompt's cached part on each answer and in the ledger.
@Suite("Prompt-cache counts in the store")
struct PromptCacheStoreTests {
    @Test("an answer keeps its cache reads and writes; the ledger sums the reads per bucket", arguments: TestDatabases.backends)
    func storedAndSummed(_ backend: StoreBackend) async throws {
        let (store, _, user, conversationID) = try await BudgetStoreTests.setUp(backend, limit: 10_000)
        let now = Date()
        var answers: [String] = []
        for (cached, written) in [(0, 600), (600, 0), (900, 100)] {
            var request = BudgetStoreTests.request(user, conversationID, input: 1000, output: 50)
            let answer = Message(
                id: Identifier.make(), conversationID: conversationID, role: .assistant, content: "", status: .streaming,
                model: "m", createdAt: now)
            request.answer = answer
            let hold = try #require(try await store.hold(request, now: now))
            let usage = Usage(
                inputTokens: 1000, outputTokens: 50, totalTokens: 1050, source: .provider, cachedInputTokens: cached,
                cacheWriteTokens: written)
            let outcome = AssistantOutcome(
                content: "Hi", status: .complete, usage: usage, ttftMs: 5, durationMs: 9, finishReason: "stop", error: nil,
                errorCode: nil, tokenEnds: [2], model: nil)
            try await store.settle(
                holdID: hold.id, inputTokens: 1000, outputTokens: 50, cachedInputTokens: cached, cost: .zero, now: now,
                finishing: AnswerFinish(messageID: answer.id, outcome: outcome), saved: nil)
            answers.append(answer.id)
        }
        let third = try #require(try await store.message(id: answers[2]))
        #expect(third.usage?.cachedInputTokens == 900 && third.usage?.cacheWriteTokens == 100)
        let first = try #require(try await store.message(id: answers[0]))
        #expect(first.usage?.cachedInputTokens == 0 && first.usage?.cacheWriteTokens == 600)
        let buckets = try await store.usageHistory(userID: user.id, since: now.addingTimeInterval(-60), groupedBy: .model)
        #expect(buckets.map(\.cachedInputTokens) == [1500])
        #expect(buckets.map(\.inputTokens) == [3000])
        try await store.close()
    }
}
