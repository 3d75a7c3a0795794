import Foundation
import SluiceCore
import SluiceTestSupport
import Testing

/// The prompts a user keeps to reuse (`/api/prompts`, Open WebUI's prompt library).
@Suite("Saved prompts")
struct SavedPromptTests {
    static func commands(_ h: Harness, _ token: String) async throws -> [String] {
        let prompts = try await h.request(.GET, "/api/prompts", token: token).json?["prompts"] as? [[String: Any]] ?? []
        return prompts.compactMap { $0["command"] as? String }
    }

    @Test("kept, listed by command, changed, removed; a command is unique per user, and each user's prompts are their own",
          arguments: TestDatabases.backends)
    func lifecycle(database: StoreBackend) async throws {
        try await Harness.run(database: database) { h in
            let made = try await h.request(
                .POST, "/api/prompts", token: h.alice,
                body: #"{"command":"/Summarize","title":"Summarise","content":"Summarise in three points:\n\n{{text}}"}"#)
            #expect(made.status == 201)
            #expect(made.json?["command"] as? String == "summarize", "the slash goes, the case is lowered")
            #expect(made.json?["content"] as? String == "Summarise in three points:\n\n{{text}}")
            let summarize = try #require(made.json?["id"] as? String)
            let review = try await h.request(
                .POST, "/api/prompts", token: h.alice, body: #"{"command":"code-review","title":"Review","content":"Review this code."}"#)
            #expect(review.status == 201)
            #expect(try await Self.commands(h, h.alice) == ["code-review", "summarize"])

            let taken = try await h.request(.POST, "/api/prompts", token: h.alice, body: #"{"command":"summarize","title":"Again","content":"x"}"#)
            #expect(taken.status == 409 && taken.errorCode == "command_taken" && taken.errorMessage?.contains("/summarize") == true)
            let renamedOnto = try await h.request(.PATCH, "/api/prompts/\(summarize)", token: h.alice, body: #"{"command":"code-review"}"#)
            #expect(renamedOnto.status == 409 && renamedOnto.errorCode == "command_taken")

            let changed = try await h.request(.PATCH, "/api/prompts/\(summarize)", token: h.alice, body: #"{"command":"tldr","title":"TL;DR"}"#)
            #expect(changed.status == 200 && changed.json?["command"] as? String == "tldr" && changed.json?["title"] as? String == "TL;DR")
            #expect(changed.json?["content"] as? String == "Summarise in three points:\n\n{{text}}", "a field left out stays")
            #expect(try await Self.commands(h, h.alice) == ["code-review", "tldr"])

            // Bob's are his own: the same command is free for him, and Alice's are not his to change.
            #expect(try await Self.commands(h, h.bob) == [])
            #expect(try await h.request(.POST, "/api/prompts", token: h.bob, body: #"{"command":"tldr","title":"Mine","content":"y"}"#).status == 201)
            #expect(try await h.request(.PATCH, "/api/prompts/\(summarize)", token: h.bob, body: #"{"title":"Stolen"}"#).status == 403)
            #expect(try await h.request(.DELETE, "/api/prompts/\(summarize)", token: h.bob).status == 403)
            #expect(try await h.store.savedPrompt(id: summarize)?.title == "TL;DR")

            #expect(try await h.request(.DELETE, "/api/prompts/\(summarize)", token: h.alice).status == 204)
            #expect(try await Self.commands(h, h.alice) == ["code-review"])
            #expect(try await h.request(.DELETE, "/api/prompts/\(summarize)", token: h.alice).status == 404)
            #expect(try await h.request(.GET, "/api/prompts", token: nil).status == 401)
        }
    }

    @Test("bad input is a 400 that says what to send, and keeps nothing")
    func refused() async throws {
        try await Harness.run { h in
            let long = String(repeating: "a", count: SavedPrompt.maxCommandLength + 1)
            for body in [
                #"{}"#, #"{"command":"x","title":"T"}"#, #"{"command":"two words","title":"T","content":"c"}"#,
                #"{"command":"/","title":"T","content":"c"}"#, #"{"command":"-x","title":"T","content":"c"}"#,
                #"{"command":"\#(long)","title":"T","content":"c"}"#, #"{"command":"ok","title":" ","content":"c"}"#,
                #"{"command":"ok","title":"T","content":"  "}"#, #"{"command":"ok","title":"T","content":"c","shared":true}"#,
            ] {
                let reply = try await h.request(.POST, "/api/prompts", token: h.alice, body: body)
                #expect(reply.status == 400, "\(body)")
                #expect(reply.errorMessage?.isEmpty == false, "\(body)")
            }
            #expect(try await Self.commands(h, h.alice) == [])
        }
    }

    @Test("a command is read without its slash, in lower case, from letters, digits, - and _")
    func commands() {
        #expect(SavedPrompt.command("/Summarize") == "summarize")
        #expect(SavedPrompt.command(" code_review-2 ") == "code_review-2")
        for bad in ["", "/", "two words", "-lead", "_lead", "ünïcode", "semi;colon", String(repeating: "a", count: 51)] {
            #expect(SavedPrompt.command(bad) == nil, "\(bad)")
        }
    }
}
