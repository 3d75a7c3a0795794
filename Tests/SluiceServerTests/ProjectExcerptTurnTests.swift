import Foundation
import SluiceCore
@testable import SluiceServer
import SluiceSimulator
import Testing

@Suite("Long project files on a small window")
struct ProjectExcerptTurnTests {
    /// A 4 000-token window: a quarter of it, 3 000 characters, of project files goes whole.
    static let window: ModelCatalog = {
        var catalog = ModelCatalog()
        catalog.setContextWindow("sim", 4_000)
        return catalog
    }()

    /// About 45 000 characters of notes (some 7 000 words: the window's size twice over), with one line that
    /// answers the question the test asks.
    static let answer = "The ferry to Zanzibar leaves from pier 3 at 07:40 every weekday."
    static let notes: String = {
        let topics = ["soil", "compost", "seedlings", "water", "sunlight", "mulch", "pruning", "roots", "leaves", "harvest"]
        let paragraphs = (0..<220).map { index in
            (0..<3).map { line in
                (0..<10).map { topics[(index * 7 + line * 3 + $0) % topics.count] }.joined(separator: " ") + "."
            }.joined(separator: "\n")
        }
        return (paragraphs[..<110] + [answer] + paragraphs[110...]).joined(separator: "\n\n")
    }()

    /// Whether one of `sources` (as `done` names them) spans the line of the notes that answers the question.
    static func holdsTheAnswer(_ sources: [[String: String]]) -> Bool {
        guard let index = notes.split(separator: "\n", omittingEmptySubsequences: false).firstIndex(where: { $0 == answer }) else {
            return false
        }
        return sources.contains { source in
            let bounds = (source["lines"] ?? "").split(separator: "-").compactMap { Int($0) }
            return bounds.count == 2 && bounds[0] <= index + 1 && index + 1 <= bounds[1]
        }
    }

    @Test("a turn sends the passages that match its question instead of files too long for the window, and is answered")
    func excerptsFitTheWindow() async throws {
        try await Harness.run(catalog: Self.window) { h in
            let project = try await ProjectTests.project(h, h.alice, #"{"name":"Trip"}"#)
            let file = try JSONSerialization.data(withJSONObject: ["name": "trip-notes.md", "text": Self.notes])
            #expect(try await h.request(.POST, "/api/projects/\(project)/files", token: h.alice, body: String(decoding: file, as: UTF8.self)).status == 201)
            let conversation = try await h.newConversation(h.alice, body: #"{"project_id":"\#(project)"}"#)
            let question = "When does the ferry to Zanzibar leave?"

            // Whole, the file alone would be twice the window: every turn would be refused (413 context_overflow).
            let turn = try await h.send(conversation, token: h.alice, body: #"{"content":"\#(question)"}"#)
            #expect(turn.last?.event == "done", "\(turn.body.prefix(400))")
            let input = try #require((turn.final?["usage"] as? [String: Any])?["input_tokens"] as? Int)
            #expect(input < 4_000)
            // `done` names the excerpts as the answer's sources, and the stored answer keeps them.
            let sources = try #require(turn.final?["sources"] as? [[String: String]], "\(turn.final ?? [:])")
            #expect(sources.allSatisfy { $0["file"] == "trip-notes.md" })
            #expect(Self.holdsTheAnswer(sources), "\(sources)")
            let shown = try await h.request(.GET, "/api/conversations/\(conversation)", token: h.alice)
            #expect(shown.messages.last?["sources"] as? [[String: String]] == sources)
            #expect(shown.messages.first?["sources"] == nil, "the question has none")

            // More than the same question outside the project: excerpts went with it.
            let alone = try await h.send(try await h.newConversation(h.alice), token: h.alice, body: #"{"content":"\#(question)"}"#)
            let aloneInput = try #require((alone.final?["usage"] as? [String: Any])?["input_tokens"] as? Int)
            #expect(alone.final?["sources"] == nil, "no project, no sources")
            #expect(input > aloneInput + 50)

            // What that turn sent of the project: the answering line among passages that fill no more than the budget.
            let stored = try #require(try await h.store.conversation(id: conversation))
            let alice = try #require(try await h.store.user(named: "alice"))
            let system = try #require(try await InstructionsRoute.personalized(
                stored, for: alice, store: h.store, catalog: Self.window, question: question).systemPrompt)
            #expect(system.contains(Self.answer))
            #expect(system.hasPrefix("Excerpts of this project's files"))
            #expect(system.count < 3_000 + 400)
            // Another question brings other passages (the files' beginnings, when no word of it is in them).
            let other = try #require(try await InstructionsRoute.personalized(
                stored, for: alice, store: h.store, catalog: Self.window, question: "Thanks!").systemPrompt)
            #expect(!other.contains(Self.answer))
            #expect(other.contains("lines=\"1-"))

            // The context view counts what a turn sends: within the window, not an overflow.
            let view = try await h.request(.GET, "/api/conversations/\(conversation)/context", token: h.alice)
            #expect(view.status == 200)
            #expect(view.json?["overflow"] == nil, "\(view.json ?? [:])")
        }
    }

    @Test("a fallback model with a smaller window gets the project's files cut for its own window, and names those sources")
    func fallbackGetsItsOwnExcerpts() async throws {
        // `sim-500` always fails; `sim` answers. The first sends the 45 000-character file whole in its 128 000-token
        // window; whole, it would be about twice the fallback's 4 000.
        var catalog = Self.window
        catalog.setContextWindow("sim-500", 128_000)
        let turn = TurnSettings(
            firstTokenTimeout: .seconds(60), idleTimeout: .seconds(60), retryPolicy: RetryPolicy(maxRetries: 0, jitter: 0))
        try await Harness.run(turn: turn, catalog: catalog, fallbacks: ["sim-500": ["sim"]]) { h in
            let project = try await ProjectTests.project(h, h.alice, #"{"name":"Trip"}"#)
            let file = try JSONSerialization.data(withJSONObject: ["name": "trip-notes.md", "text": Self.notes])
            #expect(try await h.request(.POST, "/api/projects/\(project)/files", token: h.alice, body: String(decoding: file, as: UTF8.self)).status == 201)
            let conversation = try await h.newConversation(h.alice, body: #"{"project_id":"\#(project)","model":"sim-500"}"#)

            let answered = try await h.send(conversation, token: h.alice, body: #"{"content":"When does the ferry to Zanzibar leave?"}"#)
            let statuses = answered.events.filter { $0.event == "status" }.compactMap(Harness.Turn.object)
            #expect(statuses.contains { $0["state"] as? String == "fallback" && $0["to"] as? String == "sim" })
            #expect(answered.final?["model"] as? String == "sim", "\(answered.body.prefix(400))")
            // What the fallback was sent (the simulator counts a token per word): excerpts, not the whole file.
            let input = try #require((answered.final?["usage"] as? [String: Any])?["input_tokens"] as? Int)
            #expect(input < 4_000)
            let sources = try #require(answered.final?["sources"] as? [[String: String]], "\(answered.final ?? [:])")
            #expect(Self.holdsTheAnswer(sources), "\(sources)")
            let shown = try await h.request(.GET, "/api/conversations/\(conversation)", token: h.alice)
            #expect(shown.messages.last?["sources"] as? [[String: String]] == sources)
        }
    }
}
