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

    @Test("a dollar hold reserves the prompt at the cache-write rate when that is dearer, so a turn that writes its prompt to the cache cannot overspend",
          arguments: TestDatabases.backends)
    func holdReservesTheDearerRate(_ backend: StoreBackend) async throws {
        let (store, _, user, conversationID) = try await BudgetStoreTests.setUp(backend, plan: .unlimited)
        let now = Date()
        // $1 per million in, $2 per million out, $2 per million to write the prompt to the cache.
        let price = try #require(ModelPrice(inputPerMillion: "1", outputPerMillion: "2", cacheWritePerMillion: "2"))
        #expect(price.mostPerInputToken == USDAmount(picodollars: 2_000_000))
        try await store.setDailyDollarLimit(userID: user.id, limit: USDAmount(picodollars: 2_000_000 * 100 + 2_000_000 * 50))
        let hold = try #require(try await store.hold(
            BudgetStoreTests.request(user, conversationID, input: 100, output: 1000, price: price), now: now))
        // 100 prompt tokens at $2 per million leave room for 50 output tokens (at $1 it would have been 100).
        #expect(hold.reservedTokens == 150)
        // The most that turn may cost is within the day's limit.
        #expect(price.mostCost(inputTokens: 100, outputTokens: 50) <= USDAmount(picodollars: 2_000_000 * 150))
        #expect(price.cost(inputTokens: 100, outputTokens: 50, cacheWriteTokens: 100) == price.mostCost(inputTokens: 100, outputTokens: 50))
        try await store.close()
    }
}
