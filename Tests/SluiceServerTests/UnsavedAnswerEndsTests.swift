import Foundation
import SluiceCore
@testable import SluiceServer
import SluiceSimulator
import SluiceStore
import SluiceTestSupport
import Synchronization
import Testing

/// An answer that ends while the database takes no writes (PostgreSQL restarting, a network cut) is written again
/// until it does (`UnsavedAnswerEnds`).
@Suite("Answer ends kept through a database outage", .timeLimit(.minutes(1)))
struct UnsavedAnswerEndsTests {
    /// The real budget store, whose settles fail as PostgreSQL's do when it cannot be reached, `failures` times.
    final class Outage: BudgetStore {
        let base: any BudgetStore
        private let left = Mutex(0)
        private let failure = Mutex<any Error>(StoreError.unavailable("the connection to PostgreSQL failed"))
        private let failed = Mutex(0)
        private let taken = Mutex<[String]>([])

        init(_ base: any BudgetStore) { self.base = base }

        /// The next `times` settles fail with `error` (by default as when PostgreSQL cannot be reached).
        func failSettles(_ times: Int, with error: any Error = StoreError.unavailable("the connection to PostgreSQL failed")) {
            failure.withLock { $0 = error }
            left.withLock { $0 = times }
        }
        var failedSettles: Int { failed.withLock { $0 } }
        /// The holds settled, in order.
        var settled: [String] { taken.withLock { $0 } }

        func settle(
            holdID: String, inputTokens: Int, outputTokens: Int, cachedInputTokens: Int, cost: USDAmount, now: Date,
            finishing answer: AnswerFinish?, saved: CacheSavings?
        ) async throws {
            let fails = left.withLock { left in
                guard left > 0 else { return false }
                left -= 1
                return true
            }
            if fails {
                failed.withLock { $0 += 1 }
                throw failure.withLock { $0 }
            }
            try await base.settle(
                holdID: holdID, inputTokens: inputTokens, outputTokens: outputTokens, cachedInputTokens: cachedInputTokens,
                cost: cost, now: now, finishing: answer, saved: saved)
            taken.withLock { $0.append(holdID) }
        }

        func hold(_ request: HoldRequest, now: Date) async throws -> BudgetHold? { try await base.hold(request, now: now) }
        func budget(userID: String, now: Date) async throws -> BudgetState { try await base.budget(userID: userID, now: now) }
        func budgets(now: Date) async throws -> [String: BudgetState] { try await base.budgets(now: now) }
        func setPlan(userID: String, plan: Plan, tokenLimit: Int?) async throws {
            try await base.setPlan(userID: userID, plan: plan, tokenLimit: tokenLimit)
        }
        func setDailyDollarLimit(userID: String, limit: USDAmount?) async throws {
            try await base.setDailyDollarLimit(userID: userID, limit: limit)
        }
        func setEndUserDailyDollarLimit(userID: String, limit: USDAmount?) async throws {
            try await base.setEndUserDailyDollarLimit(userID: userID, limit: limit)
        }
        func setRateLimit(_ kind: RateLimits.Kind, userID: String, limit: Int?) async throws {
            try await base.setRateLimit(kind, userID: userID, limit: limit)
        }
        func endUserBudget(userID: String, endUser: String, now: Date) async throws -> DollarBudget? {
            try await base.endUserBudget(userID: userID, endUser: endUser, now: now)
        }
        func apiKeySpentToday(userID: String, apiKeyID: String, now: Date) async throws -> USDAmount {
            try await base.apiKeySpentToday(userID: userID, apiKeyID: apiKeyID, now: now)
        }
        func apiKeyRateLimits(userID: String, apiKeyID: String, caps: RateCaps, now: Date) async throws -> RateLimits? {
            try await base.apiKeyRateLimits(userID: userID, apiKeyID: apiKeyID, caps: caps, now: now)
        }
        func resetBudget(userID: String, now: Date) async throws { try await base.resetBudget(userID: userID, now: now) }
        func setTagBudget(
            tag: String, dailyDollarLimit: USDAmount?, monthlyDollarLimit: USDAmount?, now: Date
        ) async throws -> TagBudget {
            try await base.setTagBudget(tag: tag, dailyDollarLimit: dailyDollarLimit, monthlyDollarLimit: monthlyDollarLimit, now: now)
        }
        func removeTagBudget(tag: String) async throws -> Bool { try await base.removeTagBudget(tag: tag) }
        func tagBudgets(now: Date) async throws -> [TagBudgetSummary] { try await base.tagBudgets(now: now) }
        func conversationTokens(conversationID: String) async throws -> Int {
            try await base.conversationTokens(conversationID: conversationID)
        }
        func usageHistory(userID: String?, since: Date, groupedBy grouping: UsageGrouping) async throws -> [UsageBucket] {
            try await base.usageHistory(userID: userID, since: since, groupedBy: grouping)
        }
        func calls(_ query: CallLogQuery) async throws -> [CallRecord] { try await base.calls(query) }
        func answerTimings(userID: String?, since: Date, limit: Int) async throws -> [AnswerTiming] {
            try await base.answerTimings(userID: userID, since: since, limit: limit)
        }
    }

    /// Reads `value` every 20 ms until it is not `nil`, for up to `seconds`.
    static func eventually<Value>(within seconds: Int = 20, _ value: () async throws -> Value?) async throws -> Value? {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if let found = try await value() { return found }
            try await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    /// A Sluice on `database` whose budget store's settles fail when `body` says (`Outage.failSettles`), with ends
    /// written again 10 ms after the first refusal.
    static func withOutage(_ database: StoreBackend, _ body: @escaping @Sendable (Harness, Outage) async throws -> Void) async throws {
        var turn = TurnSettings(firstTokenTimeout: .seconds(60), idleTimeout: .seconds(60), retryPolicy: RetryPolicy(jitter: 0))
        turn.unsavedEndFirstWait = .milliseconds(10)
        let outage = Mutex<Outage?>(nil)
        try await Harness.run(
            turn: turn, budgets: true, database: database,
            wrapBudgets: { base in
                let wrapped = Outage(base)
                outage.withLock { $0 = wrapped }
                return wrapped
            }
        ) { h in try await body(h, try #require(outage.withLock { $0 })) }
    }

    /// The metric of ends waiting reaches 0 (an end leaves the count when the round that wrote it ends).
    static func expectNoneWaiting(_ h: Harness) async throws {
        let noneLeft = try await eventually {
            MetricsTests.sample(try await h.text("/metrics"), "sluice_unsaved_answer_ends") == 0 ? true : nil
        }
        #expect(noneLeft == true, "an end still counted as waiting once written")
    }

    @Test("an answer streamed whole while the database takes no writes is stored whole once it does, its hold settled",
          arguments: TestDatabases.backends)
    func keptThroughAnOutage(database: StoreBackend) async throws {
        try await Self.withOutage(database) { h, budgets in
            let conversation = try await h.newConversation(h.alice)
            // The database refuses the answer's end three times: when it comes, then on the first two writes again.
            budgets.failSettles(3)
            let answered = try await h.send(conversation, token: h.alice)
            #expect(answered.names.last == "done", "the client is told as before: every token reached it")
            let id = try #require(answered.assistantID)
            let stored = try #require(try await Self.eventually {
                try await h.store.message(id: id).flatMap { $0.status == .streaming ? nil : $0 }
            }, "still streaming: the end was not written again")
            #expect(budgets.failedSettles == 3)
            #expect(stored.status == .complete)
            #expect(stored.content == answered.text && stored.content == SimulatedText.answer(tokens: 24))
            let charged = try #require(stored.usage?.totalTokens)
            let alice = try #require(try await h.store.user(named: "alice"))
            #expect(try await h.store.budget(userID: alice.id, now: Date()).used == charged, "the hold settled for what was used")
            try await Self.expectNoneWaiting(h)
        }
    }

    @Test("a text completion and an embeddings call whose settle the database does not take are answered all the same, and charged once it takes it",
          arguments: TestDatabases.backends)
    func callsKeptThroughAnOutage(database: StoreBackend) async throws {
        try await Self.withOutage(database) { h, budgets in
            let alice = try #require(try await h.store.user(named: "alice"))
            let used = { try await h.store.budget(userID: alice.id, now: Date()).used }

            // A streamed text completion: its settle is refused when it ends and once more when written again.
            budgets.failSettles(2)
            let completion = try await h.stream(
                "/v1/completions", token: h.alice, method: .POST, body: try TextCompletionsTests.json([
                    "model": "sim", "prompt": "Once upon a time", "stream": true, "max_tokens": 5,
                    "stream_options": ["include_usage": true],
                ]))
            let (chunks, done) = TextCompletionsTests.chunks(completion)
            #expect(completion.status == 200 && done)
            #expect(TextCompletionsTests.text(of: chunks) == SimulatedText.answer(tokens: 5))
            let usage = try #require(chunks.last?["usage"] as? [String: Any])
            let completionTokens = try #require(usage["total_tokens"] as? Int)
            #expect(completionTokens > 5)
            let charged = try await Self.eventually { try await used() == completionTokens ? true : nil }
            let usedAfterCompletion = try await used()
            #expect(charged == true, "the completion's hold was not settled: \(usedAfterCompletion) used")
            #expect(budgets.failedSettles == 2)

            // An embeddings call: the vectors reach the client although the settle was refused.
            budgets.failSettles(1)
            let embedded = try await h.post("/v1/embeddings", token: h.alice, json: ["model": "sim", "input": "the quick brown fox"])
            #expect(embedded.status == 200, "\(embedded.text)")
            #expect(EmbeddingsTests.vectors(embedded.text).count == 1)
            let inputTokens = try #require((EmbeddingsTests.object(embedded.text)?["usage"] as? [String: Any])?["prompt_tokens"] as? Int)
            let chargedToo = try await Self.eventually { try await used() == completionTokens + inputTokens ? true : nil }
            let usedAfterEmbeddings = try await used()
            #expect(chargedToo == true, "the embeddings call's hold was not settled: \(usedAfterEmbeddings) used")
            #expect(budgets.failedSettles == 3)
            try await Self.expectNoneWaiting(h)
        }
    }

    /// A settle the database refuses for itself — it takes other writes — is not kept: writing it again would not mend
    /// it, and kept it would hold up the ends behind it.
    struct Refused: Error {}

    @Test("a call's settle refused while the database takes writes is not kept; refused as by a database that cannot be reached, it is")
    func refusedSettles() async throws {
        let (store, _) = try await TestDatabases.makeStore(.sqlite)
        let budgets = Outage(store)
        let ends = UnsavedAnswerEnds(store: store, budgets: budgets, logger: TestDatabases.quietLogger)
        let end = AnswerEnd(
            settlement: .init(holdID: "h", inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, cost: .zero, saved: nil, at: Date()),
            answer: nil)
        budgets.failSettles(1, with: Refused())
        #expect(await ends.store(end), "taken as refused for good")
        #expect(ends.count == 0)
        budgets.failSettles(1)
        #expect(await ends.store(end) == false)
        #expect(ends.count == 1)
        try await store.close()
    }

    @Test("cancelled, it stops writing again at once rather than trying without waits")
    func stopsWhenCancelled() async throws {
        let (store, _) = try await TestDatabases.makeStore(.sqlite)
        let budgets = Outage(store)
        budgets.failSettles(.max)
        let ends = UnsavedAnswerEnds(
            store: store, budgets: budgets, firstWait: .milliseconds(1), longestWait: .milliseconds(5), logger: TestDatabases.quietLogger)
        await ends.store(AnswerEnd(
            settlement: .init(holdID: "h", inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, cost: .zero, saved: nil, at: Date()),
            answer: nil))
        // The group returns only once `run` has: spinning, it would not before the suite's time limit.
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await ends.run() }
            _ = try? await Self.eventually { budgets.failedSettles >= 3 ? true : nil }
            group.cancelAll()
        }
        let tries = budgets.failedSettles
        #expect(tries < 100, "\(tries) tries")
        #expect(ends.count == 1, "kept, not given up")
        try await store.close()
    }

    @Test("an end the database never takes is written again until the set time, then given up")
    func givesUp() async throws {
        let (store, _) = try await TestDatabases.makeStore(.sqlite)
        let budgets = Outage(store)
        budgets.failSettles(.max)
        let ends = UnsavedAnswerEnds(
            store: store, budgets: budgets, firstWait: .milliseconds(1), longestWait: .milliseconds(5),
            givingUpAfter: .seconds(2), logger: TestDatabases.quietLogger)
        let user = try await store.createUser(name: "u", plan: .free, tokenHash: "h")
        let conversation = try await store.createConversation(userID: user.id, title: "t", model: "m", systemPrompt: nil)
        let answer = Message(
            id: Identifier.make(), conversationID: conversation.id, role: .assistant, content: "", status: .streaming,
            model: "m", createdAt: Date())
        try await store.insert(answer)
        let end = AnswerEnd(
            settlement: .init(holdID: "h", inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, cost: .zero, saved: nil, at: Date()),
            answer: AnswerFinish(messageID: answer.id, outcome: AssistantOutcome(
                content: "done", status: .complete, usage: nil, ttftMs: nil, durationMs: nil, finishReason: "stop", error: nil)))
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await ends.run() }
            await ends.store(end)
            #expect(ends.count == 1)
            _ = try? await Self.eventually { ends.count == 0 ? true : nil }
            group.cancelAll()
        }
        #expect(ends.count == 0)
        // At least twice again (waits of 1–5 ms in 2 s: many more on an idle machine, as few as 3 attempts in all were
        // seen in 1 s with the whole suite on two cores).
        #expect(budgets.failedSettles > 2, "written again several times first")
        #expect(try await store.message(id: answer.id)?.status == .streaming, "never taken")
        try await store.close()
    }

    @Test("kept ends are written again in the order they ended, a round stopping at the first the database does not take")
    func inOrder() async throws {
        let (store, _) = try await TestDatabases.makeStore(.sqlite)
        let budgets = Outage(store)
        let ends = UnsavedAnswerEnds(
            store: store, budgets: budgets, firstWait: .milliseconds(1), longestWait: .milliseconds(5), logger: TestDatabases.quietLogger)
        let user = try await store.createUser(name: "u", plan: .free, tokenHash: "h")
        let conversation = try await store.createConversation(userID: user.id, title: "t", model: "m", systemPrompt: nil)
        var answers: [String] = []
        for _ in 0..<3 {
            let answer = Message(
                id: Identifier.make(), conversationID: conversation.id, role: .assistant, content: "", status: .streaming,
                model: "m", createdAt: Date())
            try await store.insert(answer)
            answers.append(answer.id)
        }
        // Each end fails when it comes (3), then the first one twice more when written again.
        budgets.failSettles(5)
        await withTaskGroup(of: Void.self) { group in
            for (index, id) in answers.enumerated() {
                await ends.store(AnswerEnd(
                    settlement: .init(holdID: "hold \(index)", inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, cost: .zero, saved: nil, at: Date()),
                    answer: AnswerFinish(messageID: id, outcome: AssistantOutcome(
                        content: "answer \(index)", status: .complete, usage: nil, ttftMs: nil, durationMs: nil, finishReason: "stop",
                        error: nil))))
            }
            #expect(ends.count == 3)
            group.addTask { await ends.run() }
            _ = try? await Self.eventually { ends.count == 0 ? true : nil }
            group.cancelAll()
        }
        #expect(budgets.settled == ["hold 0", "hold 1", "hold 2"], "the later ends were not tried while the first was refused")
        for (index, id) in answers.enumerated() {
            #expect(try await store.message(id: id)?.content == "answer \(index)")
        }
        try await store.close()
    }

    /// A fresh store with a user and an answer of theirs still `streaming` with `content`.
    static func answerBeingWritten(_ database: StoreBackend, content: String) async throws -> (any SluiceDatabase, User, Message) {
        let (store, _) = try await TestDatabases.makeStore(database)
        let user = try await store.createUser(name: "u", plan: .free, tokenHash: UUID().uuidString)
        let conversation = try await store.createConversation(userID: user.id, title: "t", model: "m", systemPrompt: nil)
        let answer = Message(
            id: Identifier.make(), conversationID: conversation.id, role: .assistant, content: content, status: .streaming,
            model: "m", createdAt: Date())
        try await store.insert(answer)
        return (store, user, answer)
    }

    @Test("an end the database had not taken when the process stopped is in its file, and written at the next start before the recovery of interrupted answers: the answer whole, its hold settled",
          arguments: TestDatabases.backends)
    func outlivesTheProcess(database: StoreBackend) async throws {
        let (store, user, answer) = try await Self.answerBeingWritten(database, content: "Half")
        let hold = try #require(try await store.hold(
            HoldRequest(userID: user.id, conversationID: answer.conversationID, messageID: answer.id, model: "m",
                        inputTokens: 10, wantedOutput: 100, price: .free), now: Date()))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ends-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: file) }

        // The database takes nothing while the answer ends; then the process is gone before it writes it again (here:
        // its `UnsavedAnswerEnds`, and with it the lock on its file, at the end of this block).
        do {
            let budgets = Outage(store)
            budgets.failSettles(.max)
            let ends = UnsavedAnswerEnds(store: store, budgets: budgets, spool: file, logger: TestDatabases.quietLogger)
            var outcome = AssistantOutcome(
                content: "Half and the rest", status: .complete, usage: Usage(inputTokens: 10, outputTokens: 5, totalTokens: 15), ttftMs: 3,
                durationMs: 40, finishReason: "stop", error: nil, tokenEnds: [4, 17])
            outcome.toolCalls = [ToolCall(id: "call_1", name: "lookup", arguments: "{\"q\":1}")]
            let end = AnswerEnd(
                settlement: .init(holdID: hold.id, inputTokens: 10, outputTokens: 5, cachedInputTokens: 0, cost: .zero, saved: nil, at: Date()),
                answer: AnswerFinish(messageID: answer.id, outcome: outcome))
            #expect(await ends.store(end) == false)
            let kept = try String(contentsOf: file, encoding: .utf8)
            #expect(kept.split(separator: "\n").count == 1 && kept.contains(answer.id))
        }

        // The next start: written, then recovery finds nothing interrupted; the file is gone.
        try await prepareStore(store, budgets: store, leftOverEnds: [file], logger: TestDatabases.quietLogger)
        let stored = try #require(try await store.message(id: answer.id))
        #expect(stored.status == .complete && stored.content == "Half and the rest" && stored.errorCode == nil)
        #expect(stored.toolCalls.map(\.name) == ["lookup"] && stored.tokenEnds == [4, 17])
        #expect(try await store.budget(userID: user.id, now: Date()).used == 15, "settled for what it used, not released")
        #expect(!FileManager.default.fileExists(atPath: file.path))
        // Nothing left: a start after that has nothing to write.
        try await prepareStore(store, budgets: store, leftOverEnds: [file], logger: TestDatabases.quietLogger)
        #expect(try await store.message(id: answer.id)?.status == .complete)
        try await store.close()
    }

    @Test("a start leaves the file of a Sluice still running on the same database to it, and writes it once that one stopped")
    func leftToItsRunningOwner() async throws {
        let (store, _, answer) = try await Self.answerBeingWritten(.sqlite, content: "")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ends-\(UUID().uuidString).jsonl")
        defer {
            try? FileManager.default.removeItem(at: file)
            try? FileManager.default.removeItem(atPath: file.path + ".lock")
        }
        // The running owner: its file holds an end the database did not take.
        let owner = AnswerEndSpool(file: file, logger: TestDatabases.quietLogger)
        #expect(owner.claim())
        owner.append(AnswerEnd(settlement: nil, answer: AnswerFinish(messageID: answer.id, outcome: AssistantOutcome(
            content: "Kept", status: .complete, usage: nil, ttftMs: 1, durationMs: 2, finishReason: "stop", error: nil,
            tokenEnds: [4]))))
        // Another process would be refused the file as this second owner is.
        #expect(!AnswerEndSpool(file: file, logger: TestDatabases.quietLogger).claim())

        // What a start does with each left-over file (`prepareStore`, which then recovers interrupted answers).
        let start = AnswerEndSpool(file: file, logger: TestDatabases.quietLogger)
        #expect(try await start.writeLeftOver(store: store, budgets: nil) == 0)
        #expect(try await store.message(id: answer.id)?.status == .streaming, "left to its owner")
        #expect(FileManager.default.fileExists(atPath: file.path))

        owner.release()
        #expect(try await start.writeLeftOver(store: store, budgets: nil) == 1)
        let stored = try #require(try await store.message(id: answer.id))
        #expect(stored.status == .complete && stored.content == "Kept")
        #expect(!FileManager.default.fileExists(atPath: file.path))
        #expect(!FileManager.default.fileExists(atPath: file.path + ".lock"))
        try await store.close()
    }

    @Test("written again, ends leave the file; when none is left, so does the file")
    func fileFollowsTheList() async throws {
        let (store, _) = try await TestDatabases.makeStore(.sqlite)
        let budgets = Outage(store)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ends-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: file) }
        let ends = UnsavedAnswerEnds(
            store: store, budgets: budgets, firstWait: .milliseconds(1), longestWait: .milliseconds(5), spool: file,
            logger: TestDatabases.quietLogger)
        budgets.failSettles(2)
        for index in 0..<2 {
            await ends.store(AnswerEnd(
                settlement: .init(holdID: "hold \(index)", inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, cost: .zero, saved: nil, at: Date()),
                answer: nil))
        }
        #expect(try String(contentsOf: file, encoding: .utf8).split(separator: "\n").count == 2)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await ends.run() }
            _ = try? await Self.eventually { ends.count == 0 ? true : nil }
            group.cancelAll()
        }
        #expect(ends.count == 0 && budgets.settled == ["hold 0", "hold 1"])
        #expect(!FileManager.default.fileExists(atPath: file.path))
        try await store.close()
    }
}
