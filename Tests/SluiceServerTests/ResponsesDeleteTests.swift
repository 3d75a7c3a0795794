import Foundation
import SluiceCore
import SluiceTestSupport
import Testing

/// `DELETE /v1/responses/{id}`: a response goes with the input it was sent with; the rest of its conversation and
/// what it cost stay.
@Suite("Deleting a response")
struct ResponsesDeleteTests {
    @Test("the answer and its input go, the id is 404 everywhere, the others stay, the last one takes the conversation",
          arguments: TestDatabases.backends)
    func deletes(database: StoreBackend) async throws {
        try await Harness.run(budgets: true, database: database) { h in
            var ids: [String] = []
            var previous: String?
            for question in ["Name a river.", "Another one?", "And a lake?"] {
                var body: [String: Any] = ["model": "sim", "input": question]
                if let previous { body["previous_response_id"] = previous }
                let reply = try await ResponsesGatewayTests.create(h, body)
                #expect(reply.status == 200, "\(reply.text)")
                previous = try #require(reply.json?["id"] as? String)
                ids.append(previous!)
            }
            // A response's id is its answer's, `resp_<message id>`.
            let answer = try #require(try await h.store.message(id: String(ids[0].dropFirst("resp_".count))))
            let conversation = answer.conversationID
            #expect(answer.role == .assistant)
            let alice = try #require(try await h.store.user(named: "alice"))
            let spent = try await h.store.budget(userID: alice.id, now: Date()).used

            #expect(try await h.request(.DELETE, "/v1/responses/\(ids[1])", token: h.bob).status == 403)
            let deleted = try await h.request(.DELETE, "/v1/responses/\(ids[1])", token: h.alice)
            #expect(deleted.status == 200 && deleted.json?["deleted"] as? Bool == true && deleted.json?["id"] as? String == ids[1])
            #expect(try await h.request(.GET, "/v1/responses/\(ids[1])", token: h.alice).status == 404)
            #expect(try await h.request(.DELETE, "/v1/responses/\(ids[1])", token: h.alice).status == 404)
            let continued = try await ResponsesGatewayTests.create(h, ["model": "sim", "input": "More?", "previous_response_id": ids[1]])
            #expect(continued.status == 404)
            let left = try await h.store.messages(conversationID: conversation).map(\.content)
            #expect(left.count == 4 && left[0] == "Name a river." && left[2] == "And a lake?")
            #expect(try await h.request(.GET, "/v1/responses/\(ids[2])", token: h.alice).status == 200)
            // What the deleted turn cost stays charged.
            #expect(try await h.store.budget(userID: alice.id, now: Date()).used == spent)

            for id in [ids[0], ids[2]] {
                #expect(try await h.request(.DELETE, "/v1/responses/\(id)", token: h.alice).status == 200)
            }
            #expect(try await h.store.conversation(id: conversation) == nil)
            #expect(try await h.request(.DELETE, "/v1/responses/resp_nope", token: h.alice).status == 404)
        }
    }
}
