import Foundation
import Logging
import SluiceCore
import SluiceStore
import SluiceTestSupport
@testable import SluiceServer

/// A SQLite store with one conversation, turns of a test provider on it, and answers started in a `GenerationHub`:
/// what the hub's tests and the memory returner's share.
struct HubFixture {
    let store: any SluiceDatabase
    let conversationID: String
    let logger = TestDatabases.quietLogger

    static func make() async throws -> HubFixture {
        let (store, _) = try await TestDatabases.makeStore(.sqlite)
        let user = try await store.createUser(name: "u", plan: .free, tokenHash: "h")
        let conversation = try await store.createConversation(userID: user.id, title: "t", model: "m", systemPrompt: nil)
        return HubFixture(store: store, conversationID: conversation.id)
    }

    /// A turn that asks `provider`, with timeouts no test reaches and progress saved only at its end.
    func turn(_ provider: any ChatProvider) -> ChatTurn {
        ChatTurn(
            store: store, progressWriter: ProgressWriter(store: store, interval: .seconds(60), logger: logger),
            unsavedEnds: UnsavedAnswerEnds(store: store, budgets: nil, logger: logger), provider: provider, settings: TurnSettings(firstTokenTimeout: .seconds(60), idleTimeout: .seconds(60)),
            sleeper: ContinuousSleeper(), metrics: SluiceMetrics(), logger: logger)
    }

    /// Stores an empty streaming answer `id` and starts `turn` on it in `hub` (preferring `executor`); returns the
    /// follower that sees every event from the start.
    func start(
        _ turn: ChatTurn, answer id: String = Identifier.make(), in hub: GenerationHub, on executor: (any TaskExecutor)? = nil
    ) async throws -> EventFeed {
        try await store.insert([Message(
            id: id, conversationID: conversationID, role: .assistant, content: "", status: .streaming, model: "m",
            createdAt: Date())])
        return hub.start(turn, plan: ChatTurn.Plan(
            assistantMessageID: id, request: ChatRequest(model: "m", messages: [ChatMessage(role: .user, content: "Hi")])),
            on: executor).1
    }
}
