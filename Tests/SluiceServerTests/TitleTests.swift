import Foundation
import SluiceCore
@testable import SluiceServer
import SluiceSimulator
import SluiceTestSupport
import Testing

/// `POST /api/conversations/{id}/title`: a model names a conversation from its first question and answer (as ChatGPT's
/// and Open WebUI's web apps ask after the first answer) — held and charged as any call, written only over the name it
/// had, refused clearly when it cannot be.
@Suite("Conversation titles")
struct TitleTests {
    /// A title call's answer, parsed.
    static func title(
        _ h: Harness, _ conversation: String, token: String, headers: [String: String] = [:]
    ) async throws -> (status: Int, json: [String: Any]) {
        let reply = try await h.post("/api/conversations/\(conversation)/title", token: token, headers: headers, json: [:])
        let json = try JSONSerialization.jsonObject(with: Data(reply.text.utf8)) as? [String: Any]
        return (reply.status, json ?? [:])
    }

    static func errorCode(_ json: [String: Any]) -> String? { (json["error"] as? [String: Any])?["code"] as? String }
    static func errorMessage(_ json: [String: Any]) -> String { (json["error"] as? [String: Any])?["message"] as? String ?? "" }

    @Test("named from the model's answer, charged to the conversation, and said in the list", arguments: TestDatabases.backends)
    func titled(database: StoreBackend) async throws {
        try await Harness.run(budgets: true, database: database) { h in
            let conversation = try await h.newConversation(h.alice)
            _ = try await h.send(conversation, token: h.alice, body: #"{"content":"How do I reverse a list in Python?"}"#)
            let firstLine = try #require(try await h.store.conversation(id: conversation)).title
            #expect(firstLine == "How do I reverse a list in Python?")
            // Read alone, it says it is still named by its question, which the web app takes as a cue to ask for a title.
            let named = { try await h.request(.GET, "/api/conversations/\(conversation)", token: h.alice).json?["title_from_question"] as? Bool }
            #expect(try await named() == true)
            let alice = try #require(try await h.store.user(named: "alice"))
            let spentBefore = try await h.store.conversationTokens(conversationID: conversation)
            let usedBefore = try await h.store.budget(userID: alice.id, now: Date()).used

            // The simulator's answer is its first six words.
            let reply = try await Self.title(h, conversation, token: h.alice, headers: ["X-Sluice-Tokens": "6"])
            #expect(reply.status == 200, "\(reply.json)")
            let expected = SimulatedText.answer(tokens: 6)
            #expect(reply.json["title"] as? String == expected)
            #expect(reply.json["model"] as? String == "sim")
            let usage = try #require(reply.json["usage"] as? [String: Any])
            let input = try #require(usage["input_tokens"] as? Int)
            #expect(usage["output_tokens"] as? Int == 6 && input > 20)
            #expect(try await h.store.conversation(id: conversation)?.title == expected)
            #expect(try await named() == nil)
            let listed = try await h.request(.GET, "/api/conversations", token: h.alice)
            let row = (listed.json?["conversations"] as? [[String: Any]])?.first { $0["id"] as? String == conversation }
            #expect(row?["title"] as? String == expected)
            // Charged: the conversation's tokens and the user's budget grew by exactly the call's.
            #expect(try await h.store.conversationTokens(conversationID: conversation) == spentBefore + input + 6)
            #expect(try await h.store.budget(userID: alice.id, now: Date()).used == usedBefore + input + 6)
            // Once named, it may be named again (the web app's rename menu could ask); the name it has is the one replaced.
            let again = try await Self.title(h, conversation, token: h.alice, headers: ["X-Sluice-Tokens": "3"])
            #expect(again.status == 200 && again.json["title"] as? String == SimulatedText.answer(tokens: 3))
        }
    }

    @Test("the model reads the first question and answer, without the conversation's instructions")
    func whatTheModelReads() async throws {
        try await Harness.run { h in
            let conversation = try await h.newConversation(
                h.alice, body: #"{"system_prompt":"You are the test assistant. The launch code is plover."}"#)
            _ = try await h.send(conversation, token: h.alice, body: #"{"content":"Plan a trip to Lisbon"}"#)
            // The echo scenario answers with the request's messages, one line each: the first is the instruction.
            let reply = try await Self.title(h, conversation, token: h.alice, headers: ["X-Sluice-Scenario": "echo"])
            #expect(reply.status == 200, "\(reply.json)")
            #expect(reply.json["title"] as? String == "user: Here is a conversation")
            // What went: the question and the simulator's answer, never the system prompt.
            let request = TitlePrompt.request(
                model: "sim", question: "Plan a trip to Lisbon", answer: SimulatedText.answer(tokens: 24), prefill: false,
                temperature: 0)
            #expect(request.messages.count == 1 && request.messages[0].role == .user)
            let text = request.messages[0].content
            #expect(text.contains("User: Plan a trip to Lisbon\nAssistant: " + SimulatedText.answer(tokens: 24)))
            #expect(!text.contains("plover"))
        }
    }

    @Test("a named title model writes every title (here the simulator's echo by its sim- name)")
    func namedModel() async throws {
        try await Harness.run(titleModel: .named("sim-echo")) { h in
            let conversation = try await h.newConversation(h.alice)
            _ = try await h.send(conversation, token: h.alice)
            let reply = try await Self.title(h, conversation, token: h.alice)
            #expect(reply.status == 200 && reply.json["model"] as? String == "sim-echo", "\(reply.json)")
            #expect(reply.json["title"] as? String == "user: Here is a conversation")
            #expect(try await h.request(.GET, "/api/models", token: h.alice).json?["titles"] as? Bool == true)
        }
    }

    @Test("refusals: another user's conversation, an unknown one, one without a question, titles turned off")
    func refusals() async throws {
        try await Harness.run { h in
            let conversation = try await h.newConversation(h.alice)
            let empty = try await Self.title(h, conversation, token: h.alice)
            #expect(empty.status == 409 && Self.errorCode(empty.json) == "nothing_to_title")
            #expect(Self.errorMessage(empty.json).contains("Send a message first"))
            _ = try await h.send(conversation, token: h.alice)
            #expect(try await Self.title(h, conversation, token: h.bob).status == 403)
            #expect(try await Self.title(h, "no-such-conversation", token: h.alice).status == 404)
            #expect(try await h.store.conversation(id: conversation)?.title == "Hello there")
        }
        try await Harness.run(titleModel: .off) { h in
            let conversation = try await h.newConversation(h.alice)
            _ = try await h.send(conversation, token: h.alice)
            let off = try await Self.title(h, conversation, token: h.alice)
            #expect(off.status == 409 && Self.errorCode(off.json) == "titles_off")
            #expect(try await h.request(.GET, "/api/models", token: h.alice).json?["titles"] as? Bool == false)
            let streams = try await h.simulatorStats()["streams_started"] as? Int
            #expect(streams == 1, "only the answer went upstream")
        }
    }

    @Test("a name the user gives while the title is being written stays", arguments: TestDatabases.backends)
    func renamedMeanwhile(database: StoreBackend) async throws {
        try await Harness.run(database: database) { h in
            let conversation = try await h.newConversation(h.alice)
            _ = try await h.send(conversation, token: h.alice)
            let gate = UUID().uuidString
            async let titling = Self.title(h, conversation, token: h.alice, headers: ["X-Sluice-Gate": gate, "X-Sluice-Tokens": "3"])
            // The title's call is upstream (so the route has read the name it will replace); then the user renames.
            let stats = try await h.simulatorStats(until: { $0["streams_started"] == 2 })
            #expect(stats["streams_started"] == 2)
            #expect(try await h.request(.PATCH, "/api/conversations/\(conversation)", token: h.alice, body: #"{"title":"My trip"}"#).status == 200)
            try await h.releaseGate(gate, count: 100)
            let reply = try await titling
            #expect(reply.status == 409 && Self.errorCode(reply.json) == "renamed", "\(reply.json)")
            #expect(try await h.store.conversation(id: conversation)?.title == "My trip")
            // The user's name is not the question's: the web app will not ask for a title over it.
            let read = try await h.request(.GET, "/api/conversations/\(conversation)", token: h.alice)
            #expect(read.status == 200 && read.json?["title_from_question"] == nil)
        }
    }

    @Test("out of budget: refused before anything goes upstream, the name kept", arguments: TestDatabases.backends)
    func outOfBudget(database: StoreBackend) async throws {
        try await Harness.run(budgets: true, database: database) { h in
            let conversation = try await h.newConversation(h.alice)
            _ = try await h.send(conversation, token: h.alice)
            let alice = try #require(try await h.store.user(named: "alice"))
            let used = try await h.store.budget(userID: alice.id, now: Date()).used
            try await h.store.setPlan(userID: alice.id, plan: .free, tokenLimit: used + 5)
            let reply = try await Self.title(h, conversation, token: h.alice)
            #expect(reply.status == 429 && Self.errorCode(reply.json) == "budget_exceeded", "\(reply.json)")
            #expect(try await h.simulatorStats()["streams_started"] as? Int == 1)
            #expect(try await h.store.conversation(id: conversation)?.title == "Hello there")
            #expect(try await h.store.budget(userID: alice.id, now: Date()).used == used)
        }
    }

    @Test("an upstream that fails: a 502 that says so, nothing charged; an answer without words: no_title, charged")
    func failures() async throws {
        try await Harness.run(budgets: true) { h in
            let conversation = try await h.newConversation(h.alice)
            _ = try await h.send(conversation, token: h.alice)
            let alice = try #require(try await h.store.user(named: "alice"))
            let used = try await h.store.budget(userID: alice.id, now: Date()).used

            let failed = try await Self.title(h, conversation, token: h.alice, headers: ["X-Sluice-Scenario": "500"])
            #expect(failed.status == 502, "\(failed.json)")
            #expect(!Self.errorMessage(failed.json).isEmpty)
            #expect(try await h.store.budget(userID: alice.id, now: Date()).used == used)
            #expect(try await h.store.conversation(id: conversation)?.title == "Hello there")

            // An answer without words.
            let blank = try await Self.title(h, conversation, token: h.alice, headers: ["X-Sluice-Tokens": "0"])
            #expect(blank.status == 502 && Self.errorCode(blank.json) == "no_title", "\(blank.json)")
            #expect(Self.errorMessage(blank.json).contains("keeps its name"))
            #expect(try await h.store.conversation(id: conversation)?.title == "Hello there")
            // Its input was read: it is charged.
            #expect(try await h.store.budget(userID: alice.id, now: Date()).used > used)
        }
    }

    @Test("a title that would show a key shows the redactor's marker instead, in the answer and in the list")
    func redacted() async throws {
        try await Harness.run { h in
            let conversation = try await h.newConversation(h.alice)
            _ = try await h.send(conversation, token: h.alice)
            // The leaking model answers "Sure. My instructions say: (none) And my key is <the upstream key>, keep it safe."
            let reply = try await Self.title(h, conversation, token: h.alice, headers: ["X-Sluice-Scenario": "leak"])
            #expect(reply.status == 200, "\(reply.json)")
            let title = try #require(reply.json["title"] as? String)
            // Redacted before the title was cut at a word near 60 characters: the marker's start is what remains.
            #expect(title == "Sure. My instructions say: (none) And my key is [credential…")
            #expect(!title.contains("sk-test"))
            #expect(try await h.store.conversation(id: conversation)?.title == title)
        }
    }
}

/// What of a model's answer becomes a title (`TitlePrompt.title(in:)`), from answers models give.
@Suite("Titles from models' answers")
struct TitleTextTests {
    @Test("the title line, without labels, Markdown, quotes, a closing full stop or what follows", arguments: [
        // SmolLM2-135M given the start "Title:" (llama-server repeats it), as measured.
        ("Title: How to reverse a list in Python\n\nUsage:\nUser: How do I reverse a list", "How to reverse a list in Python"),
        (" Banana Bread Recipe\n\nUser: How to make a Banana Bread recipe?", "Banana Bread Recipe"),
        ("TCP vs UDP: A Quick Guide to Understanding the Basics\n\nUser: How does TCP work?",
         "TCP vs UDP: A Quick Guide to Understanding the Basics"),
        // Larger models' habits.
        ("\"Reversing Lists in Python\"", "Reversing Lists in Python"),
        ("**Title:** Weekend in Rome.", "Weekend in Rome"),
        ("# 🍌 Banana Bread Basics", "🍌 Banana Bread Basics"),
        ("{\"title\": \"🇵🇹 Lisbon Trip Plan\"}", "🇵🇹 Lisbon Trip Plan"),
        ("\n\n  Why Is the Sky Blue?  \n", "Why Is the Sky Blue?"),
        ("Conversation title - Poème sur la mer", "Poème sur la mer"),
        ("«Un poème sur la mer»", "Un poème sur la mer"),
        ("Title:\nPlanning   a\tthree-day trip", "Planning a three-day trip"),
    ])
    func cleaned(answer: String, title: String) {
        #expect(TitlePrompt.title(in: answer) == title)
    }

    @Test("no title: nothing, only labels, quotes or punctuation")
    func none() {
        for answer in ["", "   \n ", "Title:", "\"\"", "...", "**"] {
            #expect(TitlePrompt.title(in: answer) == nil, "\(answer)")
        }
    }

    @Test("a long line is cut at a word near 60 characters, as a first message's title is")
    func long() throws {
        let title = try #require(TitlePrompt.title(in: String(repeating: "Lisbon trip ", count: 12)))
        #expect(title.count <= 61 && title.hasSuffix("…") && title.hasPrefix("Lisbon trip Lisbon"))
    }

    @Test("the model reads at most 1 200 characters of the question and of the answer, cut at a word")
    func excerpt() {
        let long = String(repeating: "word ", count: 1_000)
        let request = TitlePrompt.request(model: "m", question: long, answer: long, prefill: true, temperature: 0)
        #expect(request.messages.map(\.role) == [.user, .assistant] && request.messages[1].content == "Title:")
        let text = request.messages[0].content
        #expect(text.count < 2 * 1_200 + 400 && text.components(separatedBy: " …").count == 3)
        #expect(request.maxTokens == TitlePrompt.maxTokens && request.temperature == 0)
        #expect(TitlePrompt.excerpt("short one") == "short one")
    }
}
