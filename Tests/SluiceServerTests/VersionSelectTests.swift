import Foundation
import SluiceCore
import SluiceTestSupport
import Synchronization
import Testing

@Suite("Selecting a version: the thread goes on from the branch it starts")
struct VersionSelectTests {
    @Test("an earlier version of an edited question comes back with the turns that followed it; the next message goes on from it; the newer branch is kept and comes back in turn",
          arguments: TestDatabases.backends)
    func questionBranches(database: StoreBackend) async throws {
        try await Harness.run(database: database) { h in
            // The echo model answers with the messages it was sent, so the test sees each turn's history.
            let conversation = try await h.newConversation(h.alice, body: #"{"model":"sim-echo"}"#)
            let first = try await h.send(conversation, token: h.alice, body: #"{"content":"Where is Prto?"}"#)
            let second = try await h.send(conversation, token: h.alice, body: #"{"content":"What to see there?"}"#)
            let oldQuestion = try #require(first.meta?["user_message_id"] as? String)
            let edited = try await h.stream(
                "/api/messages/\(oldQuestion)/edit", token: h.alice, method: .POST, body: #"{"content":"Where is Porto?"}"#)
            let newQuestion = try #require(edited.meta?["user_message_id"] as? String)
            let river = try await h.send(conversation, token: h.alice, body: #"{"content":"And its river?"}"#)

            let old = try await h.request(.POST, "/api/messages/\(oldQuestion)/select", token: h.alice)
            #expect(old.status == 200)
            let oldThread = try #require(old.json?["messages"] as? [[String: Any]])
            #expect(oldThread.compactMap { $0["content"] as? String }
                == ["Where is Prto?", first.text, "What to see there?", second.text])
            try #require(oldThread.count == 4)
            #expect(oldThread[0]["versions"] as? [String] == [oldQuestion, newQuestion])
            #expect(oldThread[1]["id"] as? String == first.assistantID && oldThread[3]["id"] as? String == second.assistantID)
            let riverAnswer = try #require(river.assistantID)
            #expect(try await h.store.message(id: riverAnswer)?.superseded == true, "the newer branch is kept, out of the thread")

            // The next message goes on from the branch shown, and only from it.
            let food = try await h.send(conversation, token: h.alice, body: #"{"content":"And the food?"}"#)
            #expect(food.text.hasPrefix("user: Where is Prto?\n") && food.text.contains("user: What to see there?")
                && food.text.hasSuffix("user: And the food?\n"))
            #expect(!food.text.contains("Porto") && !food.text.contains("river"))

            // Back to the newer version: its later turn returns, and the turn just asked stays with the older one.
            let newer = try await h.request(.POST, "/api/messages/\(newQuestion)/select", token: h.alice)
            #expect((newer.json?["messages"] as? [[String: Any]])?.compactMap { $0["content"] as? String }
                == ["Where is Porto?", edited.text, "And its river?", river.text])
            let again = try await h.request(.POST, "/api/messages/\(oldQuestion)/select", token: h.alice)
            let foodQuestion = try #require(food.meta?["user_message_id"] as? String)
            #expect((again.json?["messages"] as? [[String: Any]])?.compactMap { $0["id"] as? String }.suffix(2)
                == [foodQuestion, try #require(food.assistantID)])
            // What the user reads again is what the thread is: the same as a GET, and after a reload.
            let shown = try await h.request(.GET, "/api/conversations/\(conversation)", token: h.alice)
            #expect((shown.json?["messages"] as? [[String: Any]])?.count == 6)
            // Nothing was lost or changed on the way: every answer is kept as it was written.
            for turn in [first, second, edited, river, food] {
                let id = try #require(turn.assistantID)
                let answer = try #require(try await h.store.message(id: id))
                #expect(answer.status == .complete && answer.content == turn.text)
            }
        }
    }

    @Test("an earlier answer comes back in place of a regenerated one, with the turns after it kept aside; a version in a branch out of sight is refused until its branch is back",
          arguments: TestDatabases.backends)
    func answerBranches(database: StoreBackend) async throws {
        try await Harness.run(database: database) { h in
            let conversation = try await h.newConversation(h.alice)
            let turn = try await h.send(conversation, token: h.alice, body: #"{"content":"Name a river."}"#)
            let firstAnswer = try #require(turn.assistantID)
            let regenerated = try await h.stream("/api/messages/\(firstAnswer)/regenerate", token: h.alice, method: .POST, body: "{}")
            let secondAnswer = try #require(regenerated.assistantID)
            let next = try await h.send(conversation, token: h.alice, body: #"{"content":"Another one."}"#)
            let laterAnswer = try #require(next.assistantID)
            let laterRegenerated = try await h.stream("/api/messages/\(laterAnswer)/regenerate", token: h.alice, method: .POST, body: "{}")
            let laterSecond = try #require(laterRegenerated.assistantID)

            let ids = { (reply: Harness.Reply) in (reply.json?["messages"] as? [[String: Any]])?.compactMap { $0["id"] as? String } }
            let question = try #require(turn.meta?["user_message_id"] as? String)
            let nextQuestion = try #require(next.meta?["user_message_id"] as? String)
            let earlier = try await h.request(.POST, "/api/messages/\(firstAnswer)/select", token: h.alice)
            #expect(ids(earlier) == [question, firstAnswer])
            #expect((earlier.json?["messages"] as? [[String: Any]])?.last?["versions"] as? [String] == [firstAnswer, secondAnswer])
            // The later answer's versions are out of sight with the branch they are in: refused, saying what to do.
            let hidden = try await h.request(.POST, "/api/messages/\(laterAnswer)/select", token: h.alice)
            #expect(hidden.status == 409 && hidden.errorCode == "not_selectable", "\(hidden.status)")
            #expect(hidden.errorMessage?.contains("select the version") == true)
            // Regenerating the answer now shown makes a third version of it.
            #expect(try await h.stream("/api/messages/\(firstAnswer)/regenerate", token: h.alice, method: .POST, body: "{}").last?.event == "done")
            #expect(try await h.store.versions(group: firstAnswer).count == 3)

            let back = try await h.request(.POST, "/api/messages/\(secondAnswer)/select", token: h.alice)
            #expect(ids(back) == [question, secondAnswer, nextQuestion, laterSecond], "the branch comes back with its own newest answer")
            let inner = try await h.request(.POST, "/api/messages/\(laterAnswer)/select", token: h.alice)
            #expect(ids(inner) == [question, secondAnswer, nextQuestion, laterAnswer])
            // Selecting what is shown changes nothing.
            #expect(ids(try await h.request(.POST, "/api/messages/\(laterAnswer)/select", token: h.alice)) == ids(inner))
        }
    }

    @Test("only the owner selects, only a message with versions, and not while an answer is being written")
    func refusals() async throws {
        try await Harness.run { h in
            let conversation = try await h.newConversation(h.alice)
            let turn = try await h.send(conversation, token: h.alice, body: #"{"content":"Name a river."}"#)
            let answer = try #require(turn.assistantID)
            let question = try #require(turn.meta?["user_message_id"] as? String)
            #expect(try await h.request(.POST, "/api/messages/\(question)/select", token: h.alice).errorCode == "not_selectable")
            #expect(try await h.request(.POST, "/api/messages/nope/select", token: h.alice).status == 404)
            #expect(try await h.stream("/api/messages/\(answer)/regenerate", token: h.alice, method: .POST, body: "{}").last?.event == "done")
            #expect(try await h.request(.POST, "/api/messages/\(answer)/select", token: h.bob).status == 403)
            #expect(try await h.request(.POST, "/api/messages/\(answer)/select", token: nil).status == 401)

            // While a later answer stalls mid-stream, the thread cannot be switched from under it.
            let statuses = Mutex<[Int]>([])
            let stalled = try await h.send(
                conversation, token: h.alice, body: #"{"content":"Another one."}"#, scenario: "stall-mid",
                headers: ["X-Sluice-Stall-Ms": "20000"]
            ) { event, _ in
                guard event.event == "token" else { return true }
                let status = try await h.request(.POST, "/api/messages/\(answer)/select", token: h.alice).status
                statuses.withLock { $0.append(status) }
                return false
            }
            // Stopped, the answer is kept as far as it went, and the thread can be switched again.
            let partial = try #require(stalled.assistantID)
            #expect(try await h.request(.POST, "/api/messages/\(partial)/cancel", token: h.alice).status == 202)
            // Following its events to their end waits for the generation to finish.
            #expect(try await h.stream("/api/messages/\(partial)/events", token: h.alice).last?.event == "done")
            #expect(try await h.store.message(id: partial)?.status == .cancelled)
            #expect(stalled.names.contains("token"))
            #expect(statuses.withLock { $0 } == [409])
            #expect(try await h.store.message(id: answer)?.superseded == true)
            let switched = try await h.request(.POST, "/api/messages/\(answer)/select", token: h.alice)
            #expect((switched.json?["messages"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [question, answer])
        }
    }
}
