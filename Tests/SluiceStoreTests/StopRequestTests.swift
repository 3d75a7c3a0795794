import Foundation
import SluiceCore
import SluiceTestSupport
import Synchronization
import Testing
@testable import SluiceStore

/// Stopping an answer that another instance on the same PostgreSQL writes (schema step 49).
@Suite("Stop requests between instances", .enabled(if: TestDatabases.postgresURL != nil))
struct StopRequestTests {
    /// What a store's `watchStopRequests` delivered, one batch after another.
    final class Deliveries: Sendable {
        let batches: AsyncStream<[String]>
        private let continuation: AsyncStream<[String]>.Continuation
        init() { (batches, continuation) = AsyncStream.makeStream() }
        func add(_ ids: [String]) { continuation.yield(ids) }
    }

    /// Two instances, a conversation, and answers `writing` being written by `writer` (the first instance).
    static func twoInstances(pollEvery: Duration = .seconds(1)) async throws -> (writer: PostgresStore, other: PostgresStore, conversation: String) {
        let location = try await TestDatabases.makeLocation(.postgres)
        let writer = try await PostgresStore.open(url: location, stopPollInterval: pollEvery)
        let other = try await PostgresStore.open(url: location, stopPollInterval: pollEvery)
        try await writer.migrate()
        try await other.migrate()
        let user = try await writer.createUser(name: "u", plan: .free, tokenHash: "h")
        let conversation = try await writer.createConversation(userID: user.id, title: "t", model: "m", systemPrompt: nil)
        return (writer, other, conversation.id)
    }

    static func answer(_ id: String, in conversation: String, status: MessageStatus) -> Message {
        Message(id: id, conversationID: conversation, role: .assistant, content: "so far", status: status, model: "m", createdAt: Date())
    }

    /// Returns once `count` connections to the test's database have run their LISTEN (pg_stat_activity, read again
    /// every 20 ms for up to 10 s): a request made earlier would be found by the watcher's first look instead.
    static func untilListening(count: Int, on store: PostgresStore) async throws {
        for _ in 0..<500 {
            let listening = try await store.rows(
                """
                SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle'
                AND query = 'LISTEN "sluice_stop_requests";'
                """)
            if listening.count >= count { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("the watchers did not LISTEN within 10 s")
    }

    @Test("a stop recorded on one instance reaches the instance writing the answer, once, and no other", .timeLimit(.minutes(1)))
    func notified() async throws {
        let (writer, other, conversation) = try await Self.twoInstances(pollEvery: .seconds(3600))
        try await writer.insert(Self.answer("live", in: conversation, status: .streaming))
        try await writer.insert(Self.answer("ended", in: conversation, status: .complete))
        let toWriter = Deliveries(), toOther = Deliveries()
        let watchers = Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await writer.watchStopRequests { toWriter.add($0) } }
                group.addTask { await other.watchStopRequests { toOther.add($0) } }
            }
        }
        // Polling once an hour, and both listening: what arrives is the notification's doing.
        try await Self.untilListening(count: 2, on: writer)
        #expect(try await other.requestStop(messageID: "live"))
        #expect(try await other.requestStop(messageID: "ended") == false, "an answer that ended records nothing")
        #expect(try await other.requestStop(messageID: "unknown") == false)
        var batches = toWriter.batches.makeAsyncIterator()
        #expect(await batches.next() == ["live"])
        // Asked again while it still runs (a second click): delivered again, for the hub to ignore if it stopped.
        #expect(try await writer.requestStop(messageID: "live"))
        #expect(await batches.next() == ["live"])
        #expect(try await writer.rows("SELECT message_id FROM stop_requests").isEmpty, "taken requests are gone")
        watchers.cancel()
        await watchers.value
        // Nothing went to the instance that does not write the answer.
        var others = toOther.batches.makeAsyncIterator()
        toOther.add(["end"])
        #expect(await others.next() == ["end"])
        try await writer.close()
        try await other.close()
    }

    @Test("a request no notification announced is found by polling, and one for an answer that ended is dropped", .timeLimit(.minutes(1)))
    func polled() async throws {
        let (writer, other, conversation) = try await Self.twoInstances(pollEvery: .milliseconds(100))
        try await writer.insert(Self.answer("live", in: conversation, status: .streaming))
        try await writer.insert(Self.answer("gone", in: conversation, status: .streaming))
        // Rows written straight into the table: no NOTIFY. "gone" ends before the watcher starts.
        try await other.rows("INSERT INTO stop_requests (message_id, requested_at) VALUES ('gone', 0)")
        try await writer.finish(messageID: "gone", outcome: AssistantOutcome(
            content: "so far", status: .cancelled, usage: nil, ttftMs: nil, durationMs: nil, finishReason: "cancelled", error: nil))
        let deliveries = Deliveries()
        var batches = deliveries.batches.makeAsyncIterator()
        let watcher = Task { await writer.watchStopRequests { deliveries.add($0) } }
        try await Self.untilListening(count: 1, on: writer)
        try await other.rows("INSERT INTO stop_requests (message_id, requested_at) VALUES ('live', 0)")
        #expect(await batches.next() == ["live"])
        #expect(try await writer.rows("SELECT message_id FROM stop_requests").isEmpty, "the ended answer's request went too")
        watcher.cancel()
        await watcher.value
        try await writer.close()
        try await other.close()
    }
}
