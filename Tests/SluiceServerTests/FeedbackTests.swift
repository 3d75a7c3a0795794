import Foundation
import SluiceCore
import SluiceTestSupport
import Testing

/// `PUT` / `DELETE /api/messages/{id}/feedback`: 👍 / 👎 on an answer, with a comment, kept on the message.
@Suite("Rating answers")
struct FeedbackTests {
    @Test("a rating and its comment are stored and shown with the message, counted once per model, and removable",
          arguments: TestDatabases.backends)
    func rateAndClear(database: StoreBackend) async throws {
        try await Harness.run(budgets: true, database: database) { h in
            let conversation = try await h.newConversation(h.alice)
            let turn = try await h.send(conversation, token: h.alice)
            let answerID = try #require(turn.assistantID)
            let questionID = try #require(turn.meta?["user_message_id"] as? String)
            let path = "/api/messages/\(answerID)/feedback"

            let good = try await h.request(.PUT, path, token: h.alice, body: #"{"rating":"good"}"#)
            #expect(good.status == 200 && good.json?["rating"] as? String == "good" && good.json?["comment"] == nil)
            let bad = try await h.request(.PUT, path, token: h.alice, body: #"{"rating":"bad","comment":"  It made up a date.  "}"#)
            #expect(bad.status == 200 && bad.json?["comment"] as? String == "It made up a date.")
            // The same rating with a new comment is not a new vote.
            _ = try await h.request(.PUT, path, token: h.alice, body: #"{"rating":"bad","comment":"It made up two dates."}"#)
            let stored = try #require(try await h.store.message(id: answerID)?.feedback)
            #expect(stored.rating == .bad && stored.comment == "It made up two dates.")
            let shown = try await h.request(.GET, "/api/conversations/\(conversation)", token: h.alice)
            let answer = (shown.json?["messages"] as? [[String: Any]])?.last
            #expect((answer?["feedback"] as? [String: Any])?["rating"] as? String == "bad")
            #expect((answer?["feedback"] as? [String: Any])?["at"] is String)
            let metrics = try await h.text("/metrics")
            #expect(MetricsTests.sample(metrics, #"sluice_answer_feedback_total{model="sim",rating="good"}"#) == 1)
            #expect(MetricsTests.sample(metrics, #"sluice_answer_feedback_total{model="sim",rating="bad"}"#) == 1)

            // The usage history counts the ratings with the model that was rated.
            let byModel = try await h.text("/api/usage?period=today&group=model", token: h.alice)
            let rows = (try JSONSerialization.jsonObject(with: Data(byModel.utf8)) as? [String: Any])?["series"] as? [[String: Any]]
            let sim = try #require(rows?.first { $0["key"] as? String == "sim" })
            #expect(sim["rated_bad"] as? Int == 1 && sim["rated_good"] as? Int == 0)

            // What an operator reviews: the rated answer with its user, model, comment and question.
            let since = Date().addingTimeInterval(-3600)
            let reviewed = try await h.store.ratedAnswers(since: since, rating: .bad, limit: 10)
            #expect(reviewed.count == 1)
            #expect(reviewed.first?.messageID == answerID && reviewed.first?.userName == "alice" && reviewed.first?.model == "sim")
            #expect(reviewed.first?.question == "Hello there" && reviewed.first?.feedback.comment == "It made up two dates.")
            #expect(reviewed.first?.answer == (try await h.store.message(id: answerID))?.content)
            #expect(try await h.store.ratedAnswers(since: since, rating: .good, limit: 10).isEmpty)
            #expect(try await h.store.ratedAnswers(since: Date().addingTimeInterval(60), rating: nil, limit: 10).isEmpty)

            #expect(try await h.request(.DELETE, path, token: h.alice).status == 204)
            #expect(try await h.store.message(id: answerID)?.feedback == nil)
            let unrated = try await h.text("/api/usage?period=today&group=model", token: h.alice)
            #expect(unrated.contains("\"rated_bad\":0"))
            let cleared = try await h.request(.GET, "/api/conversations/\(conversation)", token: h.alice)
            #expect((cleared.json?["messages"] as? [[String: Any]])?.last?["feedback"] == nil)

            // A question is not rated; a rating must be one of the two; a comment is a few paragraphs at most.
            let onQuestion = try await h.request(.PUT, "/api/messages/\(questionID)/feedback", token: h.alice, body: #"{"rating":"good"}"#)
            #expect(onQuestion.status == 400)
            for body in [#"{"rating":"meh"}"#, "{}", #"{"rating":"bad","comment":"\#(String(repeating: "x", count: 2001))"}"#] {
                #expect(try await h.request(.PUT, path, token: h.alice, body: body).status == 400)
            }
            #expect(try await h.request(.PUT, "/api/messages/nope/feedback", token: h.alice, body: #"{"rating":"good"}"#).status == 404)
            #expect(try await h.store.message(id: answerID)?.feedback == nil)
        }
    }
}
