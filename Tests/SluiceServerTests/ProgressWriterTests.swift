import Foundation
import SluiceCore
import SluiceStore
import SluiceTestSupport
import Testing
@testable import SluiceServer

/// The text of running answers is saved in batches: one write for all of them, the newest text of each, and
/// never over an answer that has ended.
@Suite("Progress of running answers")
struct ProgressWriterTests {
    /// A conversation with `streaming` answers `s0`…`s<count-1>` and one ended answer `done`.
    static func answers(_ count: Int, in store: any SluiceDatabase) async throws {
        let user = try await store.createUser(name: "u", plan: .free, tokenHash: "h")
        let conversation = try await store.createConversation(userID: user.id, title: "t", model: "m", systemPrompt: nil)
        let now = Date()
        var messages = (0..<count).map {
            Message(id: "s\($0)", conversationID: conversation.id, role: .assistant, content: "", status: .streaming,
                    model: "m", createdAt: now)
        }
        messages.append(Message(id: "done", conversationID: conversation.id, role: .assistant, content: "final",
                                status: .complete, model: "m", createdAt: now))
        try await store.insert(messages)
    }

    @Test("20 answers' progress is one write with each answer's newest text; forgotten and ended answers are left alone",
          arguments: TestDatabases.backends)
    func oneWriteForAll(_ backend: StoreBackend) async throws {
        let (store, _) = try await TestDatabases.makeStore(backend)
        try await Self.answers(20, in: store)
        let writer = ProgressWriter(store: store, interval: .seconds(60), logger: TestDatabases.quietLogger)
        for index in 0..<20 {
            writer.record(ProgressUpdate(messageID: "s\(index)", content: "old", tokenEnds: [3]))
            writer.record(ProgressUpdate(messageID: "s\(index)", content: "new \(index)", tokenEnds: [3, 3 + "\(index)".utf8.count + 1]))
        }
        writer.record(ProgressUpdate(messageID: "done", content: "stale", tokenEnds: [5]))
        writer.forget(messageID: "s0")
        await writer.flush()
        await writer.flush()  // nothing left: no second write

        #expect(writer.writesDone == 1)
        #expect(try await store.message(id: "s0")?.content == "")
        for index in 1..<20 {
            let message = try await store.message(id: "s\(index)")
            #expect(message?.content == "new \(index)")
            #expect(message?.tokens(after: 0) == ["new", " \(index)"])
        }
        #expect(try await store.message(id: "done")?.content == "final")
        try await store.close()
    }

    @Test("the running writer saves recorded text by itself, one interval after it arrives")
    func runWritesByItself() async throws {
        let (store, _) = try await TestDatabases.makeStore(.sqlite)
        try await Self.answers(3, in: store)
        let writer = ProgressWriter(store: store, interval: .milliseconds(50), logger: TestDatabases.quietLogger)
        let running = Task { await writer.run() }
        for index in 0..<3 {
            writer.record(ProgressUpdate(messageID: "s\(index)", content: "text \(index)", tokenEnds: [4, 6]))
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while writer.writesDone == 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(try await store.message(id: "s0")?.content == "text 0")
        #expect(try await store.message(id: "s2")?.content == "text 2")
        #expect(writer.writesDone == 1)
        running.cancel()
        await running.value
        try await store.close()
    }
}
