import Foundation
import ServiceLifecycle
import SluiceCore
import SluiceStore
import SluiceTestSupport
import Testing
@testable import SluiceServer

/// Generations outlive their requests but not the server: shutdown stops them and waits until each has stored
/// what it wrote.
@Suite("The generation hub")
struct GenerationHubTests {
    /// Sends one piece of text, then nothing until the call is cancelled.
    struct OneTokenThenSilence: ChatProvider {
        func streamChat(_ request: ChatRequest) -> ProviderStream {
            ProviderStream {
                var sent = false
                return ProviderStream.Iterator {
                    if !sent {
                        sent = true
                        return .delta("Hello")
                    }
                    try await Task.sleep(for: .seconds(3600))
                    return nil
                }
            }
        }

        func checkReady() async throws {}
    }

    @Test("shutdown cancels a running generation and returns once it has stored its text as partial", .timeLimit(.minutes(1)))
    func shutdownStoresPartial() async throws {
        let (store, _) = try await TestDatabases.makeStore(.sqlite)
        let logger = TestDatabases.quietLogger
        let user = try await store.createUser(name: "u", plan: .free, tokenHash: "h")
        let conversation = try await store.createConversation(userID: user.id, title: "t", model: "m", systemPrompt: nil)
        try await store.insert([Message(
            id: "a1", conversationID: conversation.id, role: .assistant, content: "", status: .streaming, model: "m",
            createdAt: Date())])
        let turn = ChatTurn(
            store: store, progressWriter: ProgressWriter(store: store, interval: .seconds(60), logger: logger),
            provider: OneTokenThenSilence(), settings: TurnSettings(firstTokenTimeout: .seconds(60), idleTimeout: .seconds(60)),
            sleeper: ContinuousSleeper(), metrics: SluiceMetrics(), logger: logger)
        let hub = GenerationHub(logger: logger)
        let services = ServiceGroup(services: [hub], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            let (_, events) = hub.start(turn, plan: ChatTurn.Plan(
                assistantMessageID: "a1", request: ChatRequest(model: "m", messages: [ChatMessage(role: .user, content: "Hi")])))
            var iterator = events.makeAsyncIterator()
            var first: TurnEvent?
            while first == nil, let event = await iterator.next() {
                if case .token = event { first = event }
            }
            #expect(first != nil)
            #expect(hub.runningCount == 1)
            await services.triggerGracefulShutdown()
            // The group ends when the hub's `run()` does: after the generation ended and stored its answer.
            try await group.next()
        }
        let stored = try #require(try await store.message(id: "a1"))
        #expect(stored.status == .partial)
        #expect(stored.content == "Hello")
        #expect(stored.errorCode == "interrupted")
        #expect(hub.runningCount == 0)

        // Once shutdown has begun a new generation is not run in place: it is cancelled before its first step, and
        // ends without text (a generation started in place would have read the provider's token).
        try await store.insert([Message(
            id: "a2", conversationID: conversation.id, role: .assistant, content: "", status: .streaming, model: "m",
            createdAt: Date())])
        let (_, late) = hub.start(turn, plan: ChatTurn.Plan(
            assistantMessageID: "a2", request: ChatRequest(model: "m", messages: [ChatMessage(role: .user, content: "Hi")])))
        var tokens = 0
        for await event in late { if case .token = event { tokens += 1 } }
        #expect(tokens == 0)
        let late2 = try #require(try await store.message(id: "a2"))
        #expect(late2.content == "" && late2.status != .complete)
        try await store.close()
    }
}
