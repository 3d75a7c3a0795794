import Foundation
import SluiceCore
import SluiceServer
import SluiceSimulator
import Testing

@Suite("Answers survive the client: keep generating, resume from the last event id")
struct ResumeTests {
    /// Reads `GET /api/messages/{id}/events` to its end.
    static func resume(_ h: Harness, _ messageID: String, lastEventID: String? = nil, after: Int? = nil, token: String? = nil)
        async throws -> Harness.Turn
    {
        var headers: [String: String] = [:]
        if let lastEventID { headers["Last-Event-ID"] = lastEventID }
        return try await h.stream(
            "/api/messages/\(messageID)/events\(after.map { "?after=\($0)" } ?? "")", token: token ?? h.alice, headers: headers)
    }

    @Test("after the browser left, the answer is finished and stored, and resuming gives exactly the missing tokens")
    func resumeAfterFinish() async throws {
        try await Harness.run(simulator: SimulatorSettings(tokens: 60, delay: .milliseconds(5))) { h in
            let conversation = try await h.newConversation(h.alice)
            let first = try await h.send(conversation, token: h.alice) { _, count in count < 6 }  // meta + 5 tokens
            let id = try #require(first.assistantID)
            #expect(first.tokens.count == 5)
            let stored = try await h.settledMessage(id)
            #expect(stored.status == .complete)
            #expect(stored.content == SimulatedText.answer(tokens: 60))

            let rest = try await Self.resume(h, id, lastEventID: "\(id):5")
            #expect(rest.status == 200)
            #expect(rest.names == Array(repeating: "token", count: 55) + ["done"])
            #expect(rest.events.first?.id == "\(id):6")
            #expect(first.text + rest.text == SimulatedText.answer(tokens: 60))
            #expect((rest.final?["usage"] as? [String: Any])?["output_tokens"] as? Int == 60)

            let all = try await Self.resume(h, id, after: 0)
            #expect(all.text == SimulatedText.answer(tokens: 60))
            let none = try await Self.resume(h, id, after: 60)
            #expect(none.names == ["done"])
        }
    }

    @Test("resuming while it is still being generated replays what was missed, then follows live, without gaps or repeats")
    func resumeWhileLive() async throws {
        try await Harness.run(simulator: SimulatorSettings(tokens: 80, delay: .milliseconds(15))) { h in
            let conversation = try await h.newConversation(h.alice)
            let first = try await h.send(conversation, token: h.alice) { _, count in count < 4 }  // meta + 3 tokens
            let id = try #require(first.assistantID)
            let rest = try await Self.resume(h, id, lastEventID: "\(id):3")
            let seqs = rest.events.filter { $0.event == "token" }.compactMap { $0.id?.split(separator: ":").last.flatMap { Int($0) } }
            #expect(seqs == Array(4...80))
            #expect(rest.last?.event == "done")
            #expect(first.text + rest.text == SimulatedText.answer(tokens: 80))
            #expect(try await h.settledMessage(id).status == .complete)
        }
    }

    @Test("a follower of an answer another instance writes ends, without an end, when this one is asked to stop", .timeLimit(.minutes(1)))
    func followerElsewhereEndsOnDrain() async throws {
        let drain = ShutdownDrain(grace: .seconds(3600))
        try await Harness.run(drain: drain) { h in
            let conversation = try await h.newConversation(h.alice)
            // Written by another instance: streaming in the store, running in no hub here.
            try await h.store.insert(Message(
                id: "written-elsewhere", conversationID: conversation, role: .assistant, content: "", status: .streaming,
                model: "sim", createdAt: Date()))
            try await h.store.saveProgress([ProgressUpdate(messageID: "written-elsewhere", content: "Hi", tokenEnds: [2])])
            let followed = try await h.stream("/api/messages/written-elsewhere/events", token: h.alice) { event, _ in
                if event.event == "token" { drain.begin() }
                return true
            }
            #expect(followed.status == 200)
            // The stream ended with the token it had, not with an end: the client reconnects, to another instance.
            #expect(followed.events.map(\.event) == ["token"], "\(followed.body)")
            #expect(followed.text == "Hi")
            #expect(try await h.store.message(id: "written-elsewhere")?.status == .streaming)
        }
    }

    @Test("a failed answer resumes to the same error; events need the owner and an assistant message")
    func resumeErrorsAndAccess() async throws {
        try await Harness.run { h in
            let conversation = try await h.newConversation(h.alice)
            let failed = try await h.send(conversation, token: h.alice, scenario: "reset-mid")
            let id = try #require(failed.assistantID)
            let replay = try await Self.resume(h, id, after: 0)
            #expect(replay.text == failed.text)
            #expect(replay.last?.event == "error")
            #expect(replay.final?["code"] as? String == "upstream_disconnected")
            #expect(replay.final?["partial"] as? Bool == true)

            #expect(try await h.request(.GET, "/api/messages/\(id)/events", token: h.bob).status == 403)
            #expect(try await h.request(.GET, "/api/messages/nope/events", token: h.alice).status == 404)
            let userMessageID = try #require(failed.meta?["user_message_id"] as? String)
            #expect(try await h.request(.GET, "/api/messages/\(userMessageID)/events", token: h.alice).status == 400)
            #expect(try await h.request(.GET, "/api/messages/\(id)/events?after=-1", token: h.alice).status == 400)
        }
    }

    @Test("cancel still works after the client that started the answer has gone")
    func cancelAfterDisconnect() async throws {
        try await Harness.run(simulator: SimulatorSettings(tokens: 2000, delay: .milliseconds(5))) { h in
            let conversation = try await h.newConversation(h.alice)
            let first = try await h.send(conversation, token: h.alice) { _, count in count < 3 }
            let id = try #require(first.assistantID)
            #expect(try await h.request(.POST, "/api/messages/\(id)/cancel", token: h.alice).status == 202)
            let stored = try await h.settledMessage(id)
            #expect(stored.status == .cancelled)
            #expect(stored.content.count < SimulatedText.answer(tokens: 2000).count)
        }
    }
}
