import Foundation
import SluiceCore
@testable import SluiceServer
import SluiceTestSupport
import Testing

/// Projects (`/api/projects`, ChatGPT's Projects): a user's named groups of conversations whose instructions go with
/// every turn of each conversation in them.
@Suite("Projects")
struct ProjectTests {
    static func project(_ h: Harness, _ token: String, _ body: String) async throws -> String {
        let reply = try await h.request(.POST, "/api/projects", token: token, body: body)
        guard reply.status == 201, let id = reply.json?["id"] as? String else { throw HarnessError("no project: \(reply.status)") }
        return id
    }

    static func names(_ h: Harness, _ token: String) async throws -> [String] {
        let projects = try await h.request(.GET, "/api/projects", token: token).json?["projects"] as? [[String: Any]] ?? []
        return projects.compactMap { $0["name"] as? String }
    }

    @Test("made, listed (latest change first), renamed, given and cleared instructions, deleted; each user's own",
          arguments: TestDatabases.backends)
    func lifecycle(database: StoreBackend) async throws {
        try await Harness.run(database: database) { h in
            let made = try await h.request(.POST, "/api/projects", token: h.alice, body: #"{"name":"  Thesis  ","instructions":"Cite sources."}"#)
            #expect(made.status == 201)
            #expect(made.json?["name"] as? String == "Thesis" && made.json?["instructions"] as? String == "Cite sources.")
            let thesis = try #require(made.json?["id"] as? String)
            let garden = try await Self.project(h, h.alice, #"{"name":"Garden"}"#)
            #expect(try await h.request(.GET, "/api/projects/\(garden)", token: h.alice).json?["instructions"] is NSNull)
            #expect(try await Self.names(h, h.alice) == ["Garden", "Thesis"])

            let renamed = try await h.request(.PATCH, "/api/projects/\(thesis)", token: h.alice, body: #"{"name":"PhD thesis"}"#)
            #expect(renamed.status == 200 && renamed.json?["instructions"] as? String == "Cite sources.", "a field left out stays")
            #expect(try await Self.names(h, h.alice) == ["PhD thesis", "Garden"], "the one changed last comes first")
            let cleared = try await h.request(.PATCH, "/api/projects/\(thesis)", token: h.alice, body: #"{"instructions":"  "}"#)
            #expect(cleared.json?["instructions"] is NSNull && cleared.json?["name"] as? String == "PhD thesis")
            #expect(try await h.store.project(id: thesis)?.instructions == nil)

            // Another user sees none of them and may touch none of them.
            #expect(try await Self.names(h, h.bob) == [])
            #expect(try await h.request(.GET, "/api/projects/\(thesis)", token: h.bob).status == 403)
            #expect(try await h.request(.PATCH, "/api/projects/\(thesis)", token: h.bob, body: #"{"name":"Mine"}"#).status == 403)
            #expect(try await h.request(.DELETE, "/api/projects/\(thesis)", token: h.bob).status == 403)
            #expect(try await h.store.project(id: thesis)?.name == "PhD thesis")
            #expect(try await h.request(.GET, "/api/projects/nope", token: h.alice).status == 404)
            #expect(try await h.request(.GET, "/api/projects", token: nil).status == 401)

            #expect(try await h.request(.DELETE, "/api/projects/\(garden)", token: h.alice).status == 204)
            #expect(try await Self.names(h, h.alice) == ["PhD thesis"])
            #expect(try await h.request(.GET, "/api/projects/\(garden)", token: h.alice).status == 404)
        }
    }

    @Test("bad input is a 400 that says what to send, and changes nothing")
    func refused() async throws {
        try await Harness.run { h in
            let long = String(repeating: "n", count: 101)
            for body in [#"{}"#, #"{"instructions":"x"}"#, #"{"name":"  "}"#, #"{"name":"\#(long)"}"#, #"{"name":5}"#,
                         #"{"name":"A","colour":"red"}"#, #"{"name":"A","instructions":7}"#, "[1]"] {
                let reply = try await h.request(.POST, "/api/projects", token: h.alice, body: body)
                #expect(reply.status == 400, "\(body)")
                #expect(reply.errorMessage?.isEmpty == false, "\(body)")
            }
            #expect(try await Self.names(h, h.alice) == [])
            let project = try await Self.project(h, h.alice, #"{"name":"Kept"}"#)
            for body in [#"{}"#, #"{"name":""}"#, #"{"nmae":"B"}"#] {
                #expect(try await h.request(.PATCH, "/api/projects/\(project)", token: h.alice, body: body).status == 400, "\(body)")
            }
            #expect(try await Self.names(h, h.alice) == ["Kept"])
        }
    }

    @Test("a conversation joins a project when made or later, moves, leaves; another user's project is refused; deleting the project keeps its conversations",
          arguments: TestDatabases.backends)
    func membership(database: StoreBackend) async throws {
        try await Harness.run(database: database) { h in
            let thesis = try await Self.project(h, h.alice, #"{"name":"Thesis"}"#)
            let garden = try await Self.project(h, h.alice, #"{"name":"Garden"}"#)
            let bobs = try await Self.project(h, h.bob, #"{"name":"Bob's"}"#)

            let made = try await h.request(.POST, "/api/conversations", token: h.alice, body: #"{"project_id":"\#(thesis)"}"#)
            #expect(made.status == 201 && made.json?["project_id"] as? String == thesis)
            let chapter = try #require(made.json?["id"] as? String)
            _ = try await h.send(chapter, token: h.alice, body: #"{"content":"Outline chapter one"}"#)
            let loose = try await h.newConversation(h.alice)
            #expect(try await h.request(.GET, "/api/conversations/\(loose)", token: h.alice).json?["project_id"] == nil)

            let listed = try await h.request(.GET, "/api/conversations", token: h.alice).json?["conversations"] as? [[String: Any]] ?? []
            #expect(listed.first { $0["id"] as? String == chapter }?["project_id"] as? String == thesis)

            let moved = try await h.request(.PATCH, "/api/conversations/\(loose)", token: h.alice, body: #"{"project_id":"\#(garden)"}"#)
            #expect(moved.status == 200 && moved.json?["project_id"] as? String == garden)
            let out = try await h.request(.PATCH, "/api/conversations/\(loose)", token: h.alice, body: #"{"project_id":null}"#)
            #expect(out.status == 200 && out.json?["project_id"] == nil)

            // Someone else's project: refused, and the conversation stays where it was.
            #expect(try await h.request(.POST, "/api/conversations", token: h.alice, body: #"{"project_id":"\#(bobs)"}"#).status == 403)
            let theirs = try await h.request(.PATCH, "/api/conversations/\(chapter)", token: h.alice, body: #"{"project_id":"\#(bobs)","title":"Renamed"}"#)
            #expect(theirs.status == 403)
            #expect(try await h.store.conversation(id: chapter)?.projectID == thesis)
            #expect(try await h.store.conversation(id: chapter)?.title != "Renamed", "nothing of a refused change is made")
            #expect(try await h.request(.PATCH, "/api/conversations/\(chapter)", token: h.alice, body: #"{"project_id":"nope"}"#).status == 404)
            #expect(try await h.request(.PATCH, "/api/conversations/\(chapter)", token: h.alice, body: #"{"project_id":3}"#).status == 400)

            // Deleting the project keeps its conversation, with every message, in no project.
            #expect(try await h.request(.DELETE, "/api/projects/\(thesis)", token: h.alice).status == 204)
            let kept = try await h.request(.GET, "/api/conversations/\(chapter)", token: h.alice)
            #expect(kept.status == 200 && kept.json?["project_id"] == nil)
            #expect(kept.messages.count == 2)
            #expect(try await h.store.conversation(id: chapter)?.projectID == nil)
        }
    }

    @Test("every turn of a conversation in a project sends the user's instructions, then the project's, then the conversation's own; counted in the estimate; a branch stays in the project",
          arguments: TestDatabases.backends)
    func instructionsSent(database: StoreBackend) async throws {
        try await Harness.run(database: database) { h in
            // Short enough (under 20 characters together) for the output redactor to let the echo quote them.
            _ = try await h.request(.PUT, "/api/me/instructions", token: h.alice, body: #"{"instructions":"Hi A."}"#)
            let project = try await Self.project(h, h.alice, #"{"name":"P","instructions":"Hi P."}"#)
            let conversation = try await h.newConversation(h.alice, body: #"{"project_id":"\#(project)","system_prompt":"Hi C."}"#)
            let estimate = {
                try await h.request(.POST, "/api/conversations/\(conversation)/estimate", token: h.alice, body: #"{"content":"Hi"}"#)
                    .json.flatMap { ($0["breakdown"] as? [String: Any])?["system"] as? Int }
            }
            let inProject = try #require(try await estimate())

            let turn = try await h.send(conversation, token: h.alice, body: #"{"content":"Hi"}"#, scenario: "echo")
            #expect(turn.text == "system: Hi A.\n\nHi P.\n\nHi C.\nuser: Hi\n", "\(turn.body)")
            let answer = try #require(turn.assistantID)
            let again = try await h.stream(
                "/api/messages/\(answer)/regenerate", token: h.alice, method: .POST, body: "{}", headers: ["X-Sluice-Scenario": "echo"])
            #expect(again.text == turn.text, "\(again.body)")

            // The project's new instructions reach the next turn.
            _ = try await h.request(.PATCH, "/api/projects/\(project)", token: h.alice, body: #"{"instructions":"Hi Q."}"#)
            let changed = try await h.send(conversation, token: h.alice, body: #"{"content":"Yo"}"#, scenario: "echo")
            #expect(changed.text.hasPrefix("system: Hi A.\n\nHi Q.\n\nHi C.\n"), "\(changed.body)")

            // A branch stays in the project and sends its instructions too.
            let branched = try await h.request(.POST, "/api/messages/\(try #require(changed.assistantID))/branch", token: h.alice)
            #expect(branched.status == 201 && branched.json?["project_id"] as? String == project)
            let branch = try #require(branched.json?["id"] as? String)
            let inBranch = try await h.send(branch, token: h.alice, body: #"{"content":"Go"}"#, scenario: "echo")
            #expect(inBranch.text.hasPrefix("system: Hi A.\n\nHi Q.\n\nHi C.\n"), "\(inBranch.body)")

            // Out of the project: the project's instructions are no longer sent or counted.
            _ = try await h.request(.PATCH, "/api/conversations/\(conversation)", token: h.alice, body: #"{"project_id":null}"#)
            let outside = try #require(try await estimate())
            #expect(outside < inProject, "the project's instructions were counted: \(inProject) → \(outside)")
            let alone = try await h.send(conversation, token: h.alice, body: #"{"content":"Hi"}"#, scenario: "echo")
            #expect(alone.text.hasPrefix("system: Hi A.\n\nHi C.\n"), "\(alone.body)")
        }
    }

    @Test("a project's files: added, listed, read back, sent with every turn of its conversations after its instructions, removed; deleted with the project",
          arguments: TestDatabases.backends)
    func files(database: StoreBackend) async throws {
        try await Harness.run(database: database) { h in
            let project = try await Self.project(h, h.alice, #"{"name":"Thesis","instructions":"Cite sources."}"#)
            let conversation = try await h.newConversation(h.alice, body: #"{"project_id":"\#(project)"}"#)
            let inputTokens = { (turn: Harness.Turn) in (turn.final?["usage"] as? [String: Any])?["input_tokens"] as? Int }
            let without = try #require(inputTokens(try await h.send(conversation, token: h.alice, body: #"{"content":"Hi"}"#)))

            let added = try await h.request(
                .POST, "/api/projects/\(project)/files", token: h.alice, body: #"{"name":"notes.txt","text":"alpha beta gamma"}"#)
            #expect(added.status == 201 && added.json?["name"] as? String == "notes.txt" && added.json?["characters"] as? Int == 16)
            #expect(added.json?["text"] == nil, "the text is not echoed back")
            let file = try #require(added.json?["id"] as? String)
            let shown = try await h.request(.GET, "/api/projects/\(project)", token: h.alice)
            #expect((shown.json?["files"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["notes.txt"])
            #expect(try await h.request(.GET, "/api/projects/\(project)/files/\(file)", token: h.alice).json?["text"] as? String == "alpha beta gamma")

            // Sent in the system prompt, after the instructions: the simulator counts its block's six words
            // (`<file`, `name="notes.txt">`, three words, `</file>`).
            // (A second conversation in the project, so that no history differs.)
            let second = try await h.newConversation(h.alice, body: #"{"project_id":"\#(project)"}"#)
            let with = try #require(inputTokens(try await h.send(second, token: h.alice, body: #"{"content":"Hi"}"#)))
            #expect(with == without + 6)
            let system = try await InstructionsRoute.personalized(
                try #require(try await h.store.conversation(id: conversation)), for: try #require(try await h.store.user(named: "alice")),
                store: h.store, catalog: ModelCatalog()).systemPrompt
            #expect(system == "Cite sources.\n\n<file name=\"notes.txt\">\nalpha beta gamma\n</file>")

            // Another user cannot read, add or remove it.
            #expect(try await h.request(.GET, "/api/projects/\(project)/files/\(file)", token: h.bob).status == 403)
            #expect(try await h.request(.POST, "/api/projects/\(project)/files", token: h.bob, body: #"{"name":"x","text":"y"}"#).status == 403)
            #expect(try await h.request(.DELETE, "/api/projects/\(project)/files/\(file)", token: h.bob).status == 403)
            // Nor is it read through another project of the same user's.
            let other = try await Self.project(h, h.alice, #"{"name":"Other"}"#)
            #expect(try await h.request(.GET, "/api/projects/\(other)/files/\(file)", token: h.alice).status == 404)
            #expect(try await h.request(.GET, "/api/projects/\(project)/files/nope", token: h.alice).status == 404)

            #expect(try await h.request(.DELETE, "/api/projects/\(project)/files/\(file)", token: h.alice).status == 204)
            #expect(try await h.request(.DELETE, "/api/projects/\(project)/files/\(file)", token: h.alice).status == 404)
            #expect(try await h.store.projectFiles(projectID: project).isEmpty)

            // Deleting the project deletes its files.
            _ = try await h.request(.POST, "/api/projects/\(project)/files", token: h.alice, body: #"{"name":"a.txt","text":"a"}"#)
            #expect(try await h.store.projectFiles(projectID: project).count == 1)
            #expect(try await h.request(.DELETE, "/api/projects/\(project)", token: h.alice).status == 204)
            #expect(try await h.store.projectFiles(projectID: project).isEmpty)
        }
    }

    @Test("a file that is not text, nameless, or beyond the project's room is refused with a reason, and nothing is added")
    func filesRefused() async throws {
        try await Harness.run { h in
            let project = try await Self.project(h, h.alice, #"{"name":"Full"}"#)
            let path = "/api/projects/\(project)/files"
            for body in [#"{"name":"","text":"x"}"#, #"{"text":"x"}"#, #"{"name":"a.txt"}"#, #"{"name":"a.bin","text":"a\u0000b"}"#] {
                let reply = try await h.request(.POST, path, token: h.alice, body: body)
                #expect(reply.status == 400 && reply.errorMessage?.isEmpty == false, "\(body)")
            }
            let half = String(repeating: "word ", count: ProjectFile.maxCharacters / 10)
            #expect(try await h.request(.POST, path, token: h.alice, body: #"{"name":"one.txt","text":"\#(half)"}"#).status == 201)
            #expect(try await h.request(.POST, path, token: h.alice, body: #"{"name":"two.txt","text":"\#(half)"}"#).status == 201)
            let over = try await h.request(.POST, path, token: h.alice, body: #"{"name":"three.txt","text":"x"}"#)
            #expect(over.status == 413 && over.errorCode == "project_files_too_large")
            #expect(over.errorMessage?.contains("three.txt") == true)
            _ = try await h.request(.DELETE, "/api/projects/\(project)", token: h.alice)

            let many = try await Self.project(h, h.alice, #"{"name":"Many"}"#)
            for index in 0..<ProjectFile.maxCount {
                #expect(try await h.request(.POST, "/api/projects/\(many)/files", token: h.alice, body: #"{"name":"\#(index).txt","text":"x"}"#).status == 201)
            }
            let full = try await h.request(.POST, "/api/projects/\(many)/files", token: h.alice, body: #"{"name":"last.txt","text":"x"}"#)
            #expect(full.status == 409 && full.errorCode == "project_files_full")
            #expect(try await h.store.projectFiles(projectID: many).count == ProjectFile.maxCount)
        }
    }

    @Test("the instructions are layered general to particular, skipping empty ones")
    func layered() {
        let conversation = Conversation.starting(userID: "u", title: "t", model: "m", systemPrompt: "Own.")
        #expect(conversation.personalized(by: "User.", project: "Project.").systemPrompt == "User.\n\nProject.\n\nOwn.")
        #expect(conversation.personalized(by: nil, project: "Project.").systemPrompt == "Project.\n\nOwn.")
        #expect(conversation.personalized(by: "", project: "").systemPrompt == "Own.")
        var bare = conversation
        bare.systemPrompt = nil
        #expect(bare.personalized(by: "User.", project: "Project.").systemPrompt == "User.\n\nProject.")
    }
}

@Suite("Usage per project")
struct ProjectUsageTests {
    @Test("usage grouped by the project each turn's conversation is in now, labelled with its name; the rest under the empty key; as CSV too",
          arguments: TestDatabases.backends)
    func perProject(database: StoreBackend) async throws {
        // With budgets on, every turn is in the ledger.
        try await Harness.run(budgets: true, database: database) { h in
            let thesis = try await ProjectTests.project(h, h.alice, #"{"name":"Thesis"}"#)
            let inProject = try await h.newConversation(h.alice, body: #"{"project_id":"\#(thesis)"}"#)
            let loose = try await h.newConversation(h.alice)
            _ = try await h.send(inProject, token: h.alice)
            _ = try await h.send(loose, token: h.alice)
            let spentInProject = try await h.store.conversationTokens(conversationID: inProject)
            let spentLoose = try await h.store.conversationTokens(conversationID: loose)

            let series = {
                try await h.request(.GET, "/api/usage?period=today&group=project", token: h.alice).json?["series"] as? [[String: Any]] ?? []
            }
            let byKey = { (rows: [[String: Any]]) in
                Dictionary(uniqueKeysWithValues: rows.compactMap { row in (row["key"] as? String).map { ($0, row) } })
            }
            var rows = byKey(try await series())
            #expect(rows[thesis]?["label"] as? String == "Thesis" && rows[thesis]?["total_tokens"] as? Int == spentInProject)
            #expect(rows[""]?["total_tokens"] as? Int == spentLoose && rows[""]?["label"] == nil)

            // Moved into the project, the loose conversation's usage goes with it.
            _ = try await h.request(.PATCH, "/api/conversations/\(loose)", token: h.alice, body: #"{"project_id":"\#(thesis)"}"#)
            rows = byKey(try await series())
            #expect(rows[thesis]?["total_tokens"] as? Int == spentInProject + spentLoose && rows[""] == nil)

            let csv = try await h.text("/api/usage?period=today&group=project&format=csv", token: h.alice)
            #expect(csv.hasPrefix("project,name,input_tokens"))
            #expect(csv.contains("\(thesis),Thesis,"))
            #expect(try await h.request(.GET, "/api/usage?period=today&group=projects", token: h.alice).errorMessage?.contains("project") == true)
        }
    }
}
