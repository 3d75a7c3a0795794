import Foundation
import SluiceCore
import SluiceTestSupport
import Synchronization
import Testing

/// "Branch in new chat" (`POST /api/messages/{id}/branch`): a new conversation of the owner's with the shown thread up
/// to an answer, which goes on by itself while the original stays as it was.
@Suite("Branching a conversation")
struct BranchTests {
    @Test("the branch holds the shown thread up to the answer (files, images, the answer's model; no earlier versions), keeps the instructions and model, is listed first, and goes on without the original's later turns",
          arguments: TestDatabases.backends)
    func branchGoesItsOwnWay(database: StoreBackend) async throws {
        try await Harness.run(database: database) { h in
            // The echo model answers with the messages it was sent: each turn shows its history.
            let original = try await h.newConversation(
                h.alice, body: #"{"model":"sim-echo","title":"Lisbon","system_prompt":"Answer briefly."}"#)
            let files = #"[{"name":"notes.txt","text":"the tram numbers"}]"#
            let first = try await h.send(
                original, token: h.alice,
                body: #"{"content":"Plan a day in Lisbon","attachments":\#(files),"images":[{"url":"\#(WebImageTests.png)"}]}"#)
            let firstAnswer = try #require(first.assistantID)
            // A regenerated answer: the branch takes the version shown, not the one set aside.
            let regenerated = try await h.stream("/api/messages/\(firstAnswer)/regenerate", token: h.alice, method: .POST, body: "{}")
            let shownAnswer = try #require(regenerated.assistantID)
            _ = try await h.send(original, token: h.alice, body: #"{"content":"And Sintra the day after?"}"#)
            let tokensBefore = try await h.store.conversationTokens(conversationID: original)

            let made = try await h.request(.POST, "/api/messages/\(shownAnswer)/branch", token: h.alice)
            #expect(made.status == 201)
            let branch = try #require(made.json?["id"] as? String)
            #expect(branch != original)
            #expect(made.json?["title"] as? String == "Branch · Lisbon")
            #expect(made.json?["model"] as? String == "sim-echo" && made.json?["system_prompt"] as? String == "Answer briefly.")

            let copied = (try await h.request(.GET, "/api/conversations/\(branch)", token: h.alice)).messages
            #expect(copied.map { $0["role"] as? String } == ["user", "assistant"])
            try #require(copied.count == 2)
            #expect(copied[0]["content"] as? String == "Plan a day in Lisbon")
            #expect((copied[0]["attachments"] as? [[String: Any]])?.first?["name"] as? String == "notes.txt")
            #expect((copied[0]["images"] as? [Any])?.count == 1)
            #expect(copied[1]["content"] as? String == regenerated.text && copied[1]["model"] as? String == "sim-echo")
            #expect(copied[1]["versions"] == nil, "only the shown version is copied")
            #expect(copied.allSatisfy { ![first.meta?["user_message_id"] as? String, firstAnswer, shownAnswer].contains($0["id"] as? String) })
            // Its image is its own copy, readable by its owner at the branch's address.
            let image = try #require(((copied[0]["images"] as? [[String: Any]])?.first?["url"]) as? String)
            #expect(image.contains(try #require(copied[0]["id"] as? String)))
            #expect(try await h.bytes(image, token: h.alice).status == 200)

            // The newest conversation in the list; the original is as it was, and nothing was charged for the copy.
            let listed = try await h.request(.GET, "/api/conversations", token: h.alice).json?["conversations"] as? [[String: Any]]
            #expect(listed?.first?["id"] as? String == branch)
            #expect((try await h.request(.GET, "/api/conversations/\(original)", token: h.alice)).messages.count == 4)
            #expect(try await h.store.conversationTokens(conversationID: original) == tokensBefore)
            #expect(try await h.store.conversationTokens(conversationID: branch) == 0)

            // It goes on by itself: the next turn reads the copied thread and instructions, not the original's later turn.
            let next = try await h.send(branch, token: h.alice, body: #"{"content":"Where to eat?"}"#)
            // The copied question goes upstream with its file and its image, as the original's did.
            #expect(next.text.hasPrefix("system: Answer briefly.\nuser: <file name=\"notes.txt\">\nthe tram numbers\n"))
            #expect(next.text.contains("Plan a day in Lisbon\nimage: image/png"))
            #expect(next.text.hasSuffix("user: Where to eat?\n"))
            #expect(!next.text.contains("Sintra"))
            #expect((try await h.request(.GET, "/api/conversations/\(original)", token: h.alice)).messages.count == 4)
        }
    }

    @Test("refused with a reason: another user's answer, a question, an earlier version, an answer being written, a temporary chat",
          arguments: TestDatabases.backends)
    func refusals(database: StoreBackend) async throws {
        try await Harness.run(database: database) { h in
            let conversation = try await h.newConversation(h.alice)
            let turn = try await h.send(conversation, token: h.alice)
            let answer = try #require(turn.assistantID)
            let question = try #require(turn.meta?["user_message_id"] as? String)
            #expect(try await h.request(.POST, "/api/messages/\(answer)/branch", token: h.bob).status == 403)
            #expect(try await h.request(.POST, "/api/messages/no-such-message/branch", token: h.alice).status == 404)
            let fromQuestion = try await h.request(.POST, "/api/messages/\(question)/branch", token: h.alice)
            #expect(fromQuestion.status == 400 && fromQuestion.errorMessage?.contains("Only an answer") == true)

            _ = try await h.stream("/api/messages/\(answer)/regenerate", token: h.alice, method: .POST, body: "{}")
            let earlier = try await h.request(.POST, "/api/messages/\(answer)/branch", token: h.alice)
            #expect(earlier.status == 409 && earlier.errorCode == "not_in_thread")

            // An answer being written: the simulator sends no token until the test opens its gate, after branching.
            let held = try await h.newConversation(h.alice)
            let gate = UUID().uuidString
            let unfinished = Mutex<(status: Int, code: String?)?>(nil)
            let written = try await h.send(held, token: h.alice, headers: ["X-Sluice-Gate": gate]) { event, _ in
                if event.event == "meta", let id = Harness.Turn.object(event)?["assistant_message_id"] as? String {
                    let reply = try await h.request(.POST, "/api/messages/\(id)/branch", token: h.alice)
                    unfinished.withLock { $0 = (reply.status, reply.errorCode) }
                    try await h.releaseGate(gate, count: 10_000)
                }
                return true
            }
            #expect(unfinished.withLock { $0?.status } == 409 && unfinished.withLock { $0?.code } == "still_streaming")
            // Written, it can be.
            #expect(try await h.request(.POST, "/api/messages/\(try #require(written.assistantID))/branch", token: h.alice).status == 201)

            let temporary = try #require(
                try await h.request(.POST, "/api/conversations", token: h.alice, body: #"{"temporary":true}"#).json?["id"] as? String)
            let temporaryAnswer = try #require(try await h.send(temporary, token: h.alice).assistantID)
            let refused = try await h.request(.POST, "/api/messages/\(temporaryAnswer)/branch", token: h.alice)
            #expect(refused.status == 409 && refused.errorCode == "temporary_chat")
            #expect((try await h.request(.GET, "/api/conversations", token: h.alice).json?["conversations"] as? [[String: Any]])?.count == 3)
        }
    }

    @Test("a branch keeps its answers' thinking and sources, and links back to its original while the original is there",
          arguments: TestDatabases.backends)
    func thinkingAndOrigin(database: StoreBackend) async throws {
        try await Harness.run(database: database) { h in
            let original = try await h.newConversation(h.alice, body: #"{"title":"Why the sky is blue"}"#)
            let turn = try await h.send(original, token: h.alice, body: #"{"content":"Why?"}"#, scenario: "reasoning")
            let answer = try #require(turn.assistantID)
            let thought = try #require(try await h.store.message(id: answer)?.reasoning)
            let thoughtFor = try await h.store.message(id: answer)?.reasoningMs
            // As an answer in a project with long files stores the excerpts it was sent.
            let sources = [ExcerptSource(file: "notes.md", lines: "12-30"), ExcerptSource(file: "a \"b\".txt", lines: "1-4")]
            try await h.store.setSources(messageID: answer, sources: sources)

            let made = try await h.request(.POST, "/api/messages/\(answer)/branch", token: h.alice)
            #expect(made.status == 201)
            let origin = made.json?["branched_from"] as? [String: Any]
            #expect(origin?["conversation_id"] as? String == original && origin?["title"] as? String == "Why the sky is blue")
            let branch = try #require(made.json?["id"] as? String)
            let shown = try await h.request(.GET, "/api/conversations/\(branch)", token: h.alice)
            #expect((shown.json?["branched_from"] as? [String: Any])?["conversation_id"] as? String == original)
            let copied = try #require(shown.messages.last)
            #expect(copied["reasoning"] as? String == thought)
            #expect(copied["reasoning_ms"] as? Int == thoughtFor)
            #expect(copied["sources"] as? [[String: String]] == sources.map { ["file": $0.file, "lines": $0.lines] })
            #expect(try await h.store.message(id: try #require(copied["id"] as? String))?.sources == sources)
            #expect(try await h.store.conversation(id: branch)?.branchedFrom == original)
            // The original is not a branch.
            #expect(try await h.request(.GET, "/api/conversations/\(original)", token: h.alice).json?["branched_from"] == nil)

            // Renamed, the link says the name it has now; deleted, the link goes and the branch stays.
            _ = try await h.request(.PATCH, "/api/conversations/\(original)", token: h.alice, body: #"{"title":"Rayleigh"}"#)
            let renamed = try await h.request(.GET, "/api/conversations/\(branch)", token: h.alice)
            #expect((renamed.json?["branched_from"] as? [String: Any])?["title"] as? String == "Rayleigh")
            #expect(try await h.request(.DELETE, "/api/conversations/\(original)", token: h.alice).status == 204)
            let orphan = try await h.request(.GET, "/api/conversations/\(branch)", token: h.alice)
            #expect(orphan.status == 200 && orphan.json?["branched_from"] == nil && orphan.messages.count == 2)
        }
    }
}
