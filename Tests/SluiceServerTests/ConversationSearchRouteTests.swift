import Foundation
import SluiceCore
import Testing
@testable import SluiceServer

@Suite("Searching conversations over HTTP")
struct ConversationSearchRouteTests {
    @Test("?q= lists only the caller's conversations with the words, with a snippet around them")
    func search() async throws {
        try await Harness.run { h in
            let trip = try await h.newConversation(h.alice, body: #"{"title":"Trip"}"#)
            #expect(try await h.send(trip, token: h.alice, body: #"{"content":"Which pastry shop near the Belem tower?"}"#).last?.event == "done")
            let other = try await h.newConversation(h.alice, body: #"{"title":"Other"}"#)
            #expect(try await h.send(other, token: h.alice, body: #"{"content":"Nothing to see"}"#).last?.event == "done")
            let bobs = try await h.newConversation(h.bob, body: #"{"title":"Belem for Bob"}"#)

            let found = try await h.request(.GET, "/api/conversations?q=belem%20TOWER", token: h.alice)
            let list = try #require(found.json?["conversations"] as? [[String: Any]])
            #expect(list.compactMap { $0["id"] as? String } == [trip])
            #expect(list.first?["snippet"] as? String == "Which pastry shop near the Belem tower?")
            // As a form writes it (URLSearchParams, Python's urlencode): `+` is a space, `%2B` a plus.
            let form = try await h.request(.GET, "/api/conversations?q=belem+TOWER", token: h.alice)
            #expect((form.json?["conversations"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [trip])
            #expect((try await h.request(.GET, "/api/conversations?q=belem%2BTOWER", token: h.alice).json?["conversations"] as? [Any])?.isEmpty == true)
            #expect(try await h.request(.GET, "/api/conversations?q=belem", token: h.bob).json.flatMap {
                ($0["conversations"] as? [[String: Any]])?.compactMap { $0["id"] as? String } } == [bobs])
            // An empty query is the whole list; a long one is refused.
            #expect((try await h.request(.GET, "/api/conversations?q=%20", token: h.alice).json?["conversations"] as? [Any])?.count == 2)
            let long = String(repeating: "a", count: 201)
            #expect(try await h.request(.GET, "/api/conversations?q=\(long)", token: h.alice).status == 400)

            // The words in any order, each anywhere in the conversation (here one in the title); a "quoted phrase" only
            // as written; more than ten words is refused with the reason.
            let ids = { (query: String) in
                (try await h.request(.GET, "/api/conversations?q=\(query)", token: h.alice).json?["conversations"] as? [[String: Any]])?
                    .compactMap { $0["id"] as? String }
            }
            #expect(try await ids("tower%20trip%20pastry") == [trip])
            #expect(try await ids("tower%20nothing").map(\.isEmpty) == true)
            #expect(try await ids("%22near%20the%20belem%22") == [trip])
            #expect(try await ids("%22belem%20near%22").map(\.isEmpty) == true)
            let many = (1...11).map { "w\($0)" }.joined(separator: "%20")
            let refused = try await h.request(.GET, "/api/conversations?q=\(many)", token: h.alice)
            #expect(refused.status == 400 && refused.errorMessage?.contains("at most 10") == true)
        }
    }

    @Test("a snippet keeps some text around the first hit, on one line, and marks where it was cut")
    func snippet() throws {
        let text = String(repeating: "x", count: 80) + "\nthe Needle here " + String(repeating: "y", count: 200)
        let snippet = ConversationRoutes.snippet(of: text, around: try #require(SearchTerms("zebra needle")))
        #expect(snippet.hasPrefix("…") && snippet.hasSuffix("…"))
        #expect(snippet.contains("x the Needle here y"))
        #expect(snippet.count == 1 + 50 + "Needle".count + 110 + 1)
        #expect(ConversationRoutes.snippet(of: "short text", around: try #require(SearchTerms("text"))) == "short text")
        // Around the earliest of the terms, whichever was typed first.
        let both = ConversationRoutes.snippet(of: String(repeating: "z", count: 60) + " Crème here, later the needle", around: try #require(SearchTerms("needle creme")), before: 5)
        #expect(both.hasPrefix("…zzzz Crème here"))
    }
}
