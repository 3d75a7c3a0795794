import Foundation
import SluiceCore
import SluiceTestSupport
import Testing
@testable import SluiceStore

/// The budget ledger on both databases: holds, settles, limits, periods and history.
@Suite("Budget store")
struct BudgetStoreTests {
    /// A user on `plan` with a conversation, in a fresh database of `backend`.
    static func setUp(
        _ backend: StoreBackend, plan: Plan = .free, limit: Int? = nil, globalDailyLimit: USDAmount? = nil
    ) async throws -> (store: any SluiceDatabase, location: String, user: User, conversationID: String) {
        let (store, location) = try await TestDatabases.makeStore(backend, globalDailyLimit: globalDailyLimit)
        let user = try await store.createUser(name: "u", plan: plan, tokenHash: UUID().uuidString)
        if let limit { try await store.setPlan(userID: user.id, plan: plan, tokenLimit: limit) }
        let conversation = try await store.createConversation(userID: user.id, title: "budget", model: "m", systemPrompt: nil)
        return (store, location, user, conversation.id)
    }

    static func request(_ user: User, _ conversationID: String, input: Int, output: Int, price: ModelPrice = .free) -> HoldRequest {
        HoldRequest(
            userID: user.id, conversationID: conversationID, messageID: Identifier.make(), model: "m",
            inputTokens: input, wantedOutput: output, price: price)
    }

    @Test("a hold counts as used until it is settled for what the turn really used", arguments: TestDatabases.backends)
    func holdAndSettle(_ backend: StoreBackend) async throws {
        let (store, _, user, conversationID) = try await Self.setUp(backend)
        let now = Date()
        #expect(try await store.budget(userID: user.id, now: now).limit == Plan.free.defaultTokenLimit)
        let hold = try #require(try await store.hold(Self.request(user, conversationID, input: 100, output: 1000), now: now))
        #expect(hold.reservedTokens == 1100)
        #expect(hold.outputAllowance == 1000)
        #expect(try await store.budget(userID: user.id, now: now).used == 1100)
        try await store.settle(holdID: hold.id, inputTokens: 100, outputTokens: 50, cost: USDAmount(picodollars: 7), now: now)
        #expect(try await store.budget(userID: user.id, now: now).used == 150)
        #expect(try await store.conversationTokens(conversationID: conversationID) == 150)
        // Settling twice changes nothing.
        try await store.settle(holdID: hold.id, inputTokens: 100, outputTokens: 500, cost: .zero, now: now)
        #expect(try await store.budget(userID: user.id, now: now).used == 150)
        let byModel = try await store.usageHistory(userID: user.id, since: now.addingTimeInterval(-60), groupedBy: .model)
        #expect(byModel == [UsageBucket(
            key: "m", label: nil, inputTokens: 100, outputTokens: 50, totalTokens: 150, cost: USDAmount(picodollars: 7), turns: 1,
            lastTurnAt: byModel.first?.lastTurnAt)])
        // The bucket's last turn is the hold's moment (stored in milliseconds).
        #expect(abs(try #require(byModel.first?.lastTurnAt).timeIntervalSince(now)) < 0.001)
        let byDay = try await store.usageHistory(userID: nil, since: now.addingTimeInterval(-60), groupedBy: .day)
        let today = ISO8601DateFormatter.string(from: now, timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate])
        #expect(byDay.map(\.key) == [today])
        let byConversation = try await store.usageHistory(userID: user.id, since: now.addingTimeInterval(-60), groupedBy: .conversation)
        #expect(byConversation.map(\.label) == ["budget"])
        // A hold for a turn that generated nothing is released, not charged.
        let empty = try #require(try await store.hold(Self.request(user, conversationID, input: 10, output: 10), now: now))
        try await store.settle(holdID: empty.id, inputTokens: 0, outputTokens: 0, cost: .zero, now: now)
        #expect(try await store.budget(userID: user.id, now: now).used == 150)
        try await store.close()
    }

    @Test("a hold takes what is left, and none is given when the input and one token do not fit", arguments: TestDatabases.backends)
    func capped(_ backend: StoreBackend) async throws {
        let (store, _, user, conversationID) = try await Self.setUp(backend, limit: 1000)
        let now = Date()
        let first = try #require(try await store.hold(Self.request(user, conversationID, input: 100, output: 600), now: now))
        #expect(first.reservedTokens == 700)
        let second = try #require(try await store.hold(Self.request(user, conversationID, input: 100, output: 600), now: now))
        #expect(second.reservedTokens == 300)
        #expect(second.outputAllowance == 200)
        #expect(try await store.hold(Self.request(user, conversationID, input: 1, output: 1), now: now) == nil)
        // A new period starts empty.
        let later = now.addingTimeInterval(2 * 86_400)
        #expect(try await store.budget(userID: user.id, now: later).used == 0)
        try await store.resetBudget(userID: user.id, now: now)
        try await store.close()
    }

    @Test("an answer given with a hold is stored only when the hold is granted", arguments: TestDatabases.backends)
    func answerWithHold(_ backend: StoreBackend) async throws {
        let (store, _, user, conversationID) = try await Self.setUp(backend, limit: 1000)
        let now = Date()
        func answer() -> Message {
            Message(id: Identifier.make(), conversationID: conversationID, role: .assistant, content: "", status: .streaming, model: "m", createdAt: now)
        }
        var granted = Self.request(user, conversationID, input: 100, output: 500)
        granted.answer = answer()
        #expect(try await store.hold(granted, now: now) != nil)
        var refused = Self.request(user, conversationID, input: 2000, output: 10)
        refused.answer = answer()
        #expect(try await store.hold(refused, now: now) == nil)
        let stored = try await store.messages(conversationID: conversationID)
        #expect(stored.map(\.id) == [granted.answer!.id])
        #expect(stored.first?.status == .streaming && stored.first?.model == "m")
        try await store.close()
    }

    @Test("a hold's prelude (a new conversation, its history and the user's message) is stored whether the hold is granted or refused", arguments: TestDatabases.backends)
    func preludeWithHold(_ backend: StoreBackend) async throws {
        let (store, _, user, _) = try await Self.setUp(backend, limit: 1000)
        let now = Date()
        func newConversation(_ title: String) -> (Conversation, [Message]) {
            let conversation = Conversation.starting(userID: user.id, title: title, model: "m", systemPrompt: "be brief")
            let messages = ([("earlier question", MessageRole.user), ("earlier answer", .assistant), ("new question", .user)] as [(String, MessageRole)]).enumerated().map { index, turn in
                Message(id: Identifier.make(), conversationID: conversation.id, role: turn.1, content: turn.0, status: .complete,
                        model: nil, createdAt: conversation.createdAt.addingTimeInterval(Double(index + 1) * 0.001))
            }
            return (conversation, messages)
        }
        // With its history, and alone (a conversation's first message: one statement of its own on PostgreSQL).
        for (title, input, granted, history) in [
            ("granted", 100, true, true), ("refused", 2000, false, true), ("first message", 100, true, false),
            ("first message refused", 2000, false, false),
        ] {
            var (conversation, messages) = newConversation(title)
            if !history { messages = Array(messages.suffix(1)) }
            var request = Self.request(user, conversation.id, input: input, output: 10)
            request.prelude = HoldPrelude(conversation: conversation, messages: messages)
            request.answer = Message(
                id: request.messageID, conversationID: conversation.id, role: .assistant, content: "", status: .streaming,
                model: "m", createdAt: conversation.createdAt.addingTimeInterval(0.01))
            #expect((try await store.hold(request, now: now) != nil) == granted)
            let stored = try #require(try await store.conversation(id: conversation.id))
            #expect(stored.title == title && stored.systemPrompt == "be brief")
            // Touched by the last message stored: the answer's row when the hold is granted, else the question.
            let latest = granted ? request.answer!.createdAt : messages.last!.createdAt
            #expect(abs(stored.updatedAt.timeIntervalSince(latest)) < 0.001, "\(title)")
            let contents = try await store.messages(conversationID: conversation.id).map(\.content)
            #expect(contents == messages.map(\.content) + (granted ? [""] : []), "\(title)")
        }
        // Into a conversation that exists: the message alone.
        let existing = try await store.createConversation(userID: user.id, title: "existing", model: "m", systemPrompt: nil)
        var request = Self.request(user, existing.id, input: 5000, output: 10)
        request.prelude = HoldPrelude(messages: [
            Message(id: Identifier.make(), conversationID: existing.id, role: .user, content: "kept", status: .complete, model: nil, createdAt: now),
        ])
        #expect(try await store.hold(request, now: now) == nil)
        #expect(try await store.messages(conversationID: existing.id).map(\.content) == ["kept"])
        try await store.close()
    }

    @Test("settling a hold can store how its answer ended in the same step; both take effect", arguments: TestDatabases.backends)
    func settleWithAnswer(_ backend: StoreBackend) async throws {
        let (store, _, user, conversationID) = try await Self.setUp(backend, limit: 1000)
        let now = Date()
        var request = Self.request(user, conversationID, input: 100, output: 500)
        request.answer = Message(
            id: Identifier.make(), conversationID: conversationID, role: .assistant, content: "", status: .streaming,
            model: "m", createdAt: now)
        let hold = try #require(try await store.hold(request, now: now))
        let outcome = AssistantOutcome(
            content: "Hello there", status: .complete,
            usage: Usage(inputTokens: 100, outputTokens: 2, totalTokens: 102, source: .provider), ttftMs: 12, durationMs: 40,
            finishReason: "stop", error: nil, errorCode: nil, tokenEnds: [5, 11], model: nil)
        try await store.settle(
            holdID: hold.id, inputTokens: 100, outputTokens: 2, cost: .zero, now: now,
            finishing: AnswerFinish(messageID: request.answer!.id, outcome: outcome))
        #expect(try await store.budget(userID: user.id, now: now).used == 102)
        let answer = try #require(try await store.message(id: request.answer!.id))
        #expect(answer.status == .complete && answer.content == "Hello there" && answer.finishReason == "stop")
        #expect(answer.usage?.totalTokens == 102 && answer.ttftMs == 12)
        // Settling again finds no hold: the answer is stored again, nothing is charged twice.
        try await store.settle(
            holdID: hold.id, inputTokens: 100, outputTokens: 2, cost: .zero, now: now,
            finishing: AnswerFinish(messageID: request.answer!.id, outcome: outcome))
        #expect(try await store.budget(userID: user.id, now: now).used == 102)
        try await store.close()
    }

    @Test("daily dollar limits cap a hold by what the turn may cost", arguments: TestDatabases.backends)
    func dollars(_ backend: StoreBackend) async throws {
        let (store, _, user, conversationID) = try await Self.setUp(backend, plan: .unlimited)
        let now = Date()
        // $1 per million input, $2 per million output: 1 000 000 pico-dollars and 2 000 000 per token.
        let price = try #require(ModelPrice(inputPerMillion: "1", outputPerMillion: "2"))
        try await store.setDailyDollarLimit(userID: user.id, limit: USDAmount(picodollars: 1_000_000 * 100 + 2_000_000 * 50))
        let hold = try #require(try await store.hold(Self.request(user, conversationID, input: 100, output: 1000, price: price), now: now))
        #expect(hold.reservedTokens == 150)
        #expect(try await store.budget(userID: user.id, now: now).dailyDollars?.spent == USDAmount(picodollars: 200_000_000))
        #expect(try await store.hold(Self.request(user, conversationID, input: 1, output: 1, price: price), now: now) == nil)
        try await store.setDailyDollarLimit(userID: user.id, limit: nil)
        #expect(try await store.budget(userID: user.id, now: now).dailyDollars == nil)
        try await store.close()
    }

    @Test("400 concurrent holds on one budget never hold more than the limit", arguments: TestDatabases.backends)
    func concurrentHolds(_ backend: StoreBackend) async throws {
        let (store, _, user, conversationID) = try await Self.setUp(backend, limit: 10_000)
        let now = Date()
        let reserved = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<400 {
                group.addTask { try await store.hold(Self.request(user, conversationID, input: 10, output: 90), now: now)?.reservedTokens ?? 0 }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(reserved.reduce(0, +) == 10_000)
        #expect(reserved.filter { $0 > 0 }.count == 100)
        #expect(try await store.budget(userID: user.id, now: now).used == 10_000)
        try await store.close()
    }
}
