import Foundation
import SluiceCore
import SluiceTestSupport
import Testing
@testable import SluiceStore

/// The ledger's calls one by one (`CallLogStore`), as the usage page's Calls lists them.
@Suite("The call log in the store")
struct CallLogStoreTests {
    @Test("calls read back newest first with their answers' figures and outcomes, narrowed by user, model, key, end user, tag and outcome, a page at a time",
          arguments: TestDatabases.backends)
    func callLog(_ backend: StoreBackend) async throws {
        let (store, _) = try await TestDatabases.makeStore(backend)
        try await store.migrate()
        let ann = try await store.createUser(name: "ann", plan: .unlimited, tokenHash: UUID().uuidString)
        let bo = try await store.createUser(name: "bo", plan: .unlimited, tokenHash: UUID().uuidString)
        let team = try await store.createTeam(name: "lab", dailyDollarLimit: nil)
        try await store.setTeam(userID: ann.id, teamID: team.id)
        let key = try await store.addAPIKey(userID: ann.id, label: "ci", tokenHash: UUID().uuidString)
        let chat = try await store.createConversation(userID: ann.id, title: "Trip plans", model: "m", systemPrompt: nil)
        let start = Date(timeIntervalSince1970: 1_800_000_000)

        /// A call `seconds` after `start`, held with its answer and (unless `ending` is nil) settled with it.
        func call(
            _ user: User, seconds: Double, model: String = "m", conversation: String? = nil, key: APIKey? = nil,
            endUser: String? = nil, tags: [String] = [], ending: AssistantOutcome?, output: Int = 20
        ) async throws -> String {
            let now = start.addingTimeInterval(seconds)
            let conversationID = conversation ?? ""
            var request = HoldRequest(
                userID: user.id, conversationID: conversationID, messageID: Identifier.make(), model: model, inputTokens: 10,
                wantedOutput: 100)
            request.apiKeyID = key?.id
            request.endUser = endUser
            request.tags = tags
            if conversation != nil {
                request.answer = Message(
                    id: request.messageID, conversationID: conversationID, role: .assistant, content: "", status: .streaming,
                    model: model, createdAt: now)
            }
            let hold = try #require(try await store.hold(request, now: now))
            if let ending {
                let generated = ending.status == .error ? 0 : output
                try await store.settle(
                    holdID: hold.id, inputTokens: generated == 0 ? 0 : 10, outputTokens: generated, cachedInputTokens: generated == 0 ? 0 : 4,
                    cost: USDAmount(picodollars: Int64(generated) * 1_000), now: now,
                    finishing: conversation == nil ? nil : AnswerFinish(messageID: request.messageID, outcome: ending), saved: nil)
            }
            return hold.id
        }
        func ended(_ status: MessageStatus, finish: String? = nil, error: String? = nil) -> AssistantOutcome {
            AssistantOutcome(
                content: "text", status: status, usage: nil, ttftMs: 120, durationMs: 900, finishReason: finish, error: error.map { _ in "failed" },
                errorCode: error)
        }

        let complete = try await call(ann, seconds: 1, conversation: chat.id, key: key, endUser: "shop-1", tags: ["prod", "eu"], ending: ended(.complete, finish: "stop"))
        let stopped = try await call(ann, seconds: 2, conversation: chat.id, ending: ended(.cancelled, finish: "cancelled"))
        let failed = try await call(ann, seconds: 3, model: "big", conversation: chat.id, tags: ["prod"], ending: ended(.error, error: "upstream_unavailable"))
        let embeddings = try await call(ann, seconds: 4, model: "embed", key: key, ending: ended(.complete))
        let running = try await call(ann, seconds: 5, conversation: chat.id, ending: nil)
        let bos = try await call(bo, seconds: 6, ending: ended(.complete))

        let mine = try await store.calls(CallLogQuery(userID: ann.id, limit: 10))
        #expect(mine.map(\.id) == [running, embeddings, failed, stopped, complete])
        #expect(mine.map(\.outcome) == [.running, .complete, .failed, .stopped, .complete])
        let first = try #require(mine.last)
        #expect(first.userName == "ann" && first.model == "m" && first.teamName == "lab")
        #expect(first.inputTokens == 10 && first.outputTokens == 20 && first.cachedInputTokens == 4 && first.cost == USDAmount(picodollars: 20_000))
        #expect(first.conversationID == chat.id && first.conversationTitle == "Trip plans")
        #expect(first.apiKeyID == key.id && first.apiKeyLabel == "ci" && first.endUser == "shop-1" && first.tags == ["prod", "eu"])
        #expect(first.firstTokenMilliseconds == 120 && first.durationMilliseconds == 900 && first.finishReason == "stop")
        #expect(abs(first.at.timeIntervalSince(start.addingTimeInterval(1))) < 0.001)
        #expect(mine[2].errorCode == "upstream_unavailable" && mine[2].cost == .zero)
        // A call that is no conversation (embeddings) has none to open, and no answer's timings.
        #expect(mine[1].conversationID == nil && mine[1].firstTokenMilliseconds == nil && mine[1].apiKeyLabel == "ci")

        // Everyone's, and narrowed.
        #expect(try await store.calls(CallLogQuery(userID: nil, limit: 10)).map(\.id) == [bos, running, embeddings, failed, stopped, complete])
        #expect(try await store.calls(CallLogQuery(userID: nil, limit: 10)).first?.userName == "bo")
        #expect(try await store.calls(CallLogQuery(userID: ann.id, model: "big")).map(\.id) == [failed])
        #expect(try await store.calls(CallLogQuery(userID: ann.id, apiKeyID: key.id)).map(\.id) == [embeddings, complete])
        #expect(try await store.calls(CallLogQuery(userID: ann.id, apiKeyID: "")).map(\.id) == [running, failed, stopped])
        #expect(try await store.calls(CallLogQuery(userID: ann.id, endUser: "shop-1")).map(\.id) == [complete])
        #expect(try await store.calls(CallLogQuery(userID: nil, tag: "prod")).map(\.id) == [failed, complete])
        #expect(try await store.calls(CallLogQuery(userID: nil, tag: "eu")).map(\.id) == [complete])
        #expect(try await store.calls(CallLogQuery(userID: nil, tag: "pro")).isEmpty)
        #expect(try await store.calls(CallLogQuery(userID: nil, outcome: .failed)).map(\.id) == [failed])
        #expect(try await store.calls(CallLogQuery(userID: nil, outcome: .complete)).map(\.id) == [bos, embeddings, complete])
        #expect(try await store.calls(CallLogQuery(userID: bo.id, outcome: .failed)).isEmpty)
        #expect(try await store.calls(CallLogQuery(userID: ann.id, since: start.addingTimeInterval(2.5))).map(\.id) == [running, embeddings, failed])
        #expect(try await store.calls(CallLogQuery(userID: ann.id, since: start.addingTimeInterval(3))).map(\.id) == [running, embeddings, failed])

        // The timings latency is measured over: complete answers only (not the stopped, failed, running or embeddings
        // calls), the newest first, from `since`, one user's or everyone's.
        let timings = try await store.answerTimings(userID: ann.id, since: start, limit: 10)
        #expect(timings == [AnswerTiming(model: "m", firstTokenMilliseconds: 120, durationMilliseconds: 900, outputTokens: 20)])
        #expect(try await store.answerTimings(userID: ann.id, since: start.addingTimeInterval(1.5), limit: 10).isEmpty)
        #expect(try await store.answerTimings(userID: nil, since: start, limit: 10).count == 1)
        #expect(try await store.answerTimings(userID: bo.id, since: start, limit: 10).isEmpty)

        // A page at a time: neither skips nor repeats a call, also among calls of the same millisecond.
        let same = try await call(bo, seconds: 6, ending: ended(.complete))
        let everyone = try await store.calls(CallLogQuery(userID: nil, limit: 100))
        #expect(Set(everyone.prefix(2).map(\.id)) == [bos, same])
        var paged: [CallRecord] = []
        var before: String?
        repeat {
            let page = try await store.calls(CallLogQuery(userID: nil, before: before, limit: 2))
            paged += page
            before = page.count == 2 ? page.last?.id : nil
        } while before != nil
        #expect(paged.map(\.id) == everyone.map(\.id))
        #expect(try await store.calls(CallLogQuery(userID: ann.id, before: stopped, limit: 10)).map(\.id) == [complete])

        // A deleted user's calls stay, without their name; a deleted conversation's calls have none to open.
        try await store.deleteConversation(id: chat.id)
        #expect(try await store.calls(CallLogQuery(userID: ann.id, limit: 1)).first?.conversationID == nil)
        #expect(try await store.deleteUser(userID: bo.id))
        let gone = try await store.calls(CallLogQuery(userID: bo.id, limit: 10))
        #expect(gone.count == 2 && gone.allSatisfy { $0.userName == nil && $0.userID == bo.id })
        try await store.close()
    }
}
