import Foundation
import SluiceCore
import SluiceSimulator
import Testing

@Suite("Regenerating the latest answer")
struct RegenerateTests {
    @Test("regenerate makes a new version; earlier versions are kept and listed; the thread shows the newest")
    func versions() async throws {
        try await Harness.run { h in
            let conversation = try await h.newConversation(h.alice)
            let first = try await h.send(conversation, token: h.alice, headers: ["X-Sluice-Tokens": "5"])
            let firstID = try #require(first.assistantID)
            let second = try await h.stream(
                "/api/messages/\(firstID)/regenerate", token: h.alice, method: .POST, body: "{\"temperature\":0.9}",
                headers: ["X-Sluice-Tokens": "7"])
            #expect(second.last?.event == "done")
            let secondID = try #require(second.assistantID)
            #expect(secondID != firstID)
            #expect(second.tokens.count == 7)

            let thread = try await h.request(.GET, "/api/conversations/\(conversation)", token: h.alice)
            let messages = try #require(thread.json?["messages"] as? [[String: Any]])
            #expect(messages.map { $0["role"] as? String } == ["user", "assistant"])
            #expect(messages[1]["id"] as? String == secondID)
            #expect(messages[1]["versions"] as? [String] == [firstID, secondID])
            #expect(messages[1]["content"] as? String == SimulatedText.answer(tokens: 7))

            let old = try await h.request(.GET, "/api/messages/\(firstID)", token: h.alice)
            #expect(old.json?["content"] as? String == SimulatedText.answer(tokens: 5))
            #expect(old.json?["versions"] as? [String] == [firstID, secondID])

            // Only the newest version of the latest answer can be regenerated again, and it goes upstream next.
            #expect(try await h.request(.POST, "/api/messages/\(firstID)/regenerate", token: h.alice).status == 409)
            let next = try await h.send(conversation, token: h.alice, body: "{\"content\":\"and then\"}")
            let answerWords = SimulatedText.answer(tokens: 7).split(whereSeparator: \.isWhitespace).count
            #expect((next.final?["usage"] as? [String: Any])?["input_tokens"] as? Int == 3 + (4 + 2) + (4 + answerWords) + (4 + 2))
            #expect(try await h.request(.POST, "/api/messages/\(secondID)/regenerate", token: h.alice).status == 409)
        }
    }

    @Test("regenerate needs the owner and an answer")
    func refusals() async throws {
        try await Harness.run { h in
            let conversation = try await h.newConversation(h.alice)
            let turn = try await h.send(conversation, token: h.alice)
            let id = try #require(turn.assistantID)
            #expect(try await h.request(.POST, "/api/messages/\(id)/regenerate", token: h.bob).status == 403)
            let userID = try #require(turn.meta?["user_message_id"] as? String)
            #expect(try await h.request(.POST, "/api/messages/\(userID)/regenerate", token: h.alice).status == 400)
            let bad = try await h.request(.POST, "/api/messages/\(id)/regenerate", token: h.alice, body: "{\"temperature\":2}")
            #expect(bad.status == 400)
            #expect(try await h.request(.GET, "/api/messages/\(id)", token: h.bob).status == 403)
        }
    }
}
