import AsyncHTTPClient
import Foundation
import NIOCore
import SluiceCore
import SluiceTestSupport
import Testing

@Suite("Gateway threads: a client's history continues its conversation")
struct GatewayThreadTests {
    /// One `/v1/chat/completions` call (streamed or not): the conversation it landed in and the answer's text.
    static func call(
        _ h: Harness, token: String, messages: [(String, String)], system: String? = nil, stream: Bool
    ) async throws -> (conversation: String, answer: String) {
        var all = system.map { [("system", $0)] } ?? []
        all += messages
        let body = try JSONSerialization.data(withJSONObject: [
            "model": "sim", "stream": stream, "messages": all.map { ["role": $0.0, "content": $0.1] },
        ] as [String: Any])
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(h.port)/v1/chat/completions")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await Harness.client.execute(request, timeout: .seconds(30))
        #expect(response.status.code == 200)
        let conversation = try #require(response.headers.first(name: "X-Sluice-Conversation-Id"))
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        guard stream else {
            let json = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
            let choice = (json?["choices"] as? [[String: Any]])?.first
            return (conversation, try #require((choice?["message"] as? [String: Any])?["content"] as? String))
        }
        var answer = ""
        for line in text.split(separator: "\n") where line.hasPrefix("data: {") {
            let chunk = try JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any]
            let delta = ((chunk?["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])
            answer += delta?["content"] as? String ?? ""
        }
        return (conversation, answer)
    }

    /// With budgets the thread is marked in the commit that settles the turn; without, after storing the answer.
    @Test("a history that is how a conversation ended continues it, stored once; an edited history starts a new one",
          arguments: [(stream: false, budgets: false), (stream: true, budgets: true), (stream: false, budgets: true)])
    func continuesItsThread(stream: Bool, budgets: Bool) async throws {
        try await Harness.run(budgets: budgets, database: stream ? TestDatabases.backends.last! : .sqlite) { h in
            let first = try await Self.call(h, token: h.alice, messages: [("user", "first")], system: "Be brief.", stream: stream)
            #expect(!first.answer.isEmpty)
            let history = [("user", "first"), ("assistant", first.answer)]
            let second = try await Self.call(h, token: h.alice, messages: history + [("user", "second")], system: "Be brief.", stream: stream)
            #expect(second.conversation == first.conversation)
            let stored = try await h.store.messages(conversationID: first.conversation)
            #expect(stored.map(\.content) == ["first", first.answer, "second", second.answer])
            #expect(stored.map(\.status) == [.complete, .complete, .complete, .complete])
            // And on: the third call continues after the second.
            let third = try await Self.call(
                h, token: h.alice, messages: history + [("user", "second"), ("assistant", second.answer), ("user", "third")],
                system: "Be brief.", stream: stream)
            #expect(third.conversation == first.conversation)
            #expect(try await h.store.messages(conversationID: first.conversation).count == 6)

            // An edited answer, another system prompt, or a branch from an earlier point: a new conversation,
            // with the history stored before the new message.
            let edited = try await Self.call(
                h, token: h.alice, messages: [("user", "first"), ("assistant", "not what you said"), ("user", "x")],
                system: "Be brief.", stream: stream)
            #expect(edited.conversation != first.conversation)
            #expect(try await h.store.messages(conversationID: edited.conversation).map(\.content)
                == ["first", "not what you said", "x", edited.answer])
            let otherSystem = try await Self.call(h, token: h.alice, messages: history + [("user", "y")], system: "Be long.", stream: stream)
            #expect(otherSystem.conversation != first.conversation)
            let branch = try await Self.call(h, token: h.alice, messages: history + [("user", "z")], system: "Be brief.", stream: stream)
            #expect(branch.conversation != first.conversation)
            #expect(try await h.store.messages(conversationID: first.conversation).count == 6)
        }
    }

    @Test("another user's identical history never continues a conversation that is not theirs")
    func threadsBelongToTheirUser() async throws {
        try await Harness.run { h in
            let first = try await Self.call(h, token: h.alice, messages: [("user", "shared words")], stream: false)
            let bobs = try await Self.call(
                h, token: h.bob, messages: [("user", "shared words"), ("assistant", first.answer), ("user", "next")], stream: false)
            #expect(bobs.conversation != first.conversation)
            #expect(try await h.store.messages(conversationID: first.conversation).count == 2)
            // Alice's thread is still hers to continue.
            let alices = try await Self.call(
                h, token: h.alice, messages: [("user", "shared words"), ("assistant", first.answer), ("user", "next")], stream: false)
            #expect(alices.conversation == first.conversation)
        }
    }

    @Test("two calls continuing the same thread at once: one continues it, the other branches into its own",
          arguments: TestDatabases.backends)
    func concurrentCallsBranch(_ backend: StoreBackend) async throws {
        try await Harness.run(database: backend) { h in
            let first = try await Self.call(h, token: h.alice, messages: [("user", "root")], stream: false)
            let history = [("user", "root"), ("assistant", first.answer)]
            async let a = Self.call(h, token: h.alice, messages: history + [("user", "left")], stream: true)
            async let b = Self.call(h, token: h.alice, messages: history + [("user", "right")], stream: true)
            let conversations = try await [a.conversation, b.conversation]
            #expect(conversations.filter { $0 == first.conversation }.count == 1)
            #expect(try await h.store.messages(conversationID: first.conversation).count == 4)
        }
    }
}
