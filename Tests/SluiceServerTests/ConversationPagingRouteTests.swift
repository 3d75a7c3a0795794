import Foundation
import SluiceCore
import SluiceTestSupport
import Testing

/// `GET /api/conversations?limit=&cursor=&project_id=`: the sidebar's list a page at a time, and each project's own.
@Suite("Conversation list pages over HTTP")
struct ConversationPagingRouteTests {
    static func page(_ h: Harness, _ query: String, token: String? = nil) async throws -> (titles: [String], next: String?) {
        let reply = try await h.request(.GET, "/api/conversations?\(query)", token: token ?? h.alice)
        #expect(reply.status == 200, "\(query): \(reply.errorMessage ?? "")")
        let titles = (reply.json?["conversations"] as? [[String: Any]])?.compactMap { $0["title"] as? String } ?? []
        return (titles, reply.json?["next_cursor"] as? String)
    }

    @Test("pages follow one another to the end; the whole list without a limit; a project's own or those in none",
          arguments: TestDatabases.backends)
    func pages(database: StoreBackend) async throws {
        try await Harness.run(database: database) { h in
            let project = try await ProjectTests.project(h, h.alice, #"{"name":"Thesis"}"#)
            var ids: [String: String] = [:]
            for index in 1...7 {
                let inProject = index.isMultiple(of: 3) ? #","project_id":"\#(project)""# : ""
                ids["c\(index)"] = try await h.newConversation(h.alice, body: #"{"title":"c\#(index)"\#(inProject)}"#)
            }
            #expect(try await h.request(.PATCH, "/api/conversations/\(ids["c2"]!)", token: h.alice, body: #"{"pinned":true}"#).status == 200)
            let whole = ["c2", "c7", "c6", "c5", "c4", "c3", "c1"]
            let all = try await Self.page(h, "")
            #expect(all.titles == whole && all.next == nil, "no limit: the whole list and no cursor")

            var read: [String] = []
            var query = "limit=3"
            var pages = 0
            while true {
                let page = try await Self.page(h, query)
                read += page.titles
                pages += 1
                guard let next = page.next else { break }
                #expect(page.titles.count == 3)
                query = "limit=3&cursor=\(next)"
            }
            #expect(read == whole && pages == 3)
            let exact = try await Self.page(h, "limit=7")
            #expect(exact.titles == whole && exact.next == nil, "a page that holds the rest says no more follow")

            #expect(try await Self.page(h, "project_id=none").titles == ["c2", "c7", "c5", "c4", "c1"])
            let inProject = try await Self.page(h, "project_id=\(project)&limit=1")
            #expect(inProject.titles == ["c6"])
            #expect(try await Self.page(h, "project_id=\(project)&limit=1&cursor=\(try #require(inProject.next))").titles == ["c3"])
            let projects = try await h.request(.GET, "/api/projects", token: h.alice).json?["projects"] as? [[String: Any]]
            #expect(projects?.first?["conversation_count"] as? Int == 2)

            // The archived ones page the same way, with their own cursors.
            for title in ["c1", "c4", "c7"] {
                #expect(try await h.request(.PATCH, "/api/conversations/\(ids[title]!)", token: h.alice, body: #"{"archived":true}"#).status == 200)
            }
            let archived = try await Self.page(h, "archived=true&limit=2")
            #expect(archived.titles == ["c7", "c4"])
            #expect(try await Self.page(h, "archived=true&limit=2&cursor=\(try #require(archived.next))").titles == ["c1"])
            let reply = try await h.request(.GET, "/api/conversations?limit=2&cursor=\(try #require(archived.next))", token: h.alice)
            #expect(reply.status == 400, "an archived list's cursor does not continue the other")
            #expect(try await Self.page(h, "", token: h.bob).titles == [])
        }
    }

    @Test("a bad limit, cursor or project is a 400 (403, 404) that says what to send")
    func refused() async throws {
        try await Harness.run { h in
            _ = try await h.newConversation(h.alice, body: #"{"title":"mine"}"#)
            for query in ["limit=0", "limit=201", "limit=ten", "limit=", "cursor=abc", "cursor=1-2", "cursor=3-1-1", "cursor=1--2-3",
                          "archived=maybe"] {
                let reply = try await h.request(.GET, "/api/conversations?\(query)", token: h.alice)
                #expect(reply.status == 400, "\(query)")
                #expect(reply.errorMessage?.isEmpty == false, "\(query)")
            }
            let bobs = try await ProjectTests.project(h, h.bob, #"{"name":"Bob's"}"#)
            #expect(try await h.request(.GET, "/api/conversations?project_id=\(bobs)", token: h.alice).status == 403)
            #expect(try await h.request(.GET, "/api/conversations?project_id=nope", token: h.alice).status == 404)
            #expect(try await h.request(.GET, "/api/conversations?limit=200", token: h.alice).status == 200)
        }
    }
}
