import Foundation
import SluiceCore
import Logging
import SluiceProviders
@testable import SluiceServer
import Synchronization
import Testing

/// Records what it is asked to fold and answers with a numbered summary, so tests can check that summaries
/// are extended (previous summary + only the new messages), never recomputed.
final class RecordingSummarizer: ConversationSummarizer {
    struct Call: Sendable {
        let previous: String?
        let messages: [ChatMessage]
    }
    private let recorded = Mutex<[Call]>([])
    var calls: [Call] { recorded.withLock { $0 } }

    func summarize(previous: String?, messages: [ChatMessage]) async throws -> String {
        let number = recorded.withLock {
            $0.append(Call(previous: previous, messages: messages))
            return $0.count
        }
        return "summary \(number) of \(messages.count) messages"
    }
}

@Suite("Context window management")
struct ContextTests {
    /// A 1 000-token window for `sim`: with the default output reserve capped at half the window, requests may
    /// have 500 input tokens; each turn here is about 35 (WordTokenizer counts words).
    static let smallWindow: ModelCatalog = {
        var catalog = ModelCatalog()
        catalog.setContextWindow("sim", 1000)
        return catalog
    }()

    static func meta(_ turn: Harness.Turn) -> [String: Any]? { turn.meta?["context"] as? [String: Any] }

    @Test("after an earlier question is edited, the summary that folded the turns now out of the thread is not sent; the thread's own messages are")
    func staleSummaryAfterEdit() async throws {
        let summarizer = RecordingSummarizer()
        try await Harness.run(catalog: Self.smallWindow, summarizer: summarizer) { h in
            let conversation = try await h.newConversation(h.alice)
            var questions: [String] = []
            for index in 1...7 {
                let turn = try await h.send(conversation, token: h.alice, body: "{\"content\":\"question number \(index)\"}")
                questions.append(try #require(turn.meta?["user_message_id"] as? String))
            }
            #expect(summarizer.calls.count == 1, "the seventh turn folded the first eight messages")
            // The third question asked again: it and everything after it leave the thread, among them messages the
            // summary folded.
            let edited = try await h.stream(
                "/api/messages/\(questions[2])/edit", token: h.alice, method: .POST, body: #"{"content":"question three again"}"#,
                headers: ["X-Sluice-Scenario": "echo"])
            #expect(edited.last?.event == "done", "\(edited.body)")
            #expect(!edited.text.contains("summary 1"), "the stale summary is not sent: \(edited.text)")
            #expect(edited.text.contains("user: question number 1") && edited.text.hasSuffix("user: question three again\n"))
            #expect(!edited.text.contains("question number 3") && !edited.text.contains("question number 6"))
        }
    }

    @Test("older messages are folded into a running summary that is extended, not recomputed; meta says what went in")
    func foldsIncrementally() async throws {
        let summarizer = RecordingSummarizer()
        try await Harness.run(catalog: Self.smallWindow, summarizer: summarizer) { h in
            let conversation = try await h.newConversation(h.alice, body: #"{"system_prompt":"You are terse."}"#)
            for index in 1...6 {
                let turn = try await h.send(conversation, token: h.alice, body: "{\"content\":\"question number \(index)\"}")
                #expect(turn.names.last == "done")
                let context = try #require(Self.meta(turn))
                #expect(context["messages_in_full"] as? Int == 2 * (index - 1))
                #expect(context["summarised_now"] as? Int == 0)
            }
            #expect(summarizer.calls.isEmpty)
            // The seventh turn has 12 earlier messages, two over the 10 recent ones: a fold keeps the last 4.
            let seventh = try await h.send(conversation, token: h.alice, body: #"{"content":"question number 7"}"#)
            let context = try #require(Self.meta(seventh))
            #expect(context["summarised_now"] as? Int == 8)
            #expect(context["messages_summarised"] as? Int == 8)
            #expect(context["messages_in_full"] as? Int == 4)
            #expect(try #require(context["input_tokens"] as? Int) <= (context["input_budget"] as? Int ?? 0))
            #expect(summarizer.calls.count == 1)
            #expect(summarizer.calls[0].previous == nil)
            #expect(summarizer.calls[0].messages.first?.content == "question number 1")

            // What went upstream: the system prompt, the summary, the last four messages and the new one.
            let echo = try await h.send(conversation, token: h.alice, body: #"{"content":"what do you see?"}"#, scenario: "echo")
            let lines = echo.text.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.first == "system: You are terse.")
            #expect(echo.text.contains("system: Summary of the earlier conversation:\nsummary 1 of 8 messages"))
            #expect(!echo.text.contains("question number 4\n") && echo.text.contains("user: question number 5"))
            #expect(echo.text.hasSuffix("user: what do you see?\n"))

            // Three turns later 12 unsummarised messages are two too many again: a second fold extends summary 1
            // with the next 8 (only those), keeping the last 4.
            for index in 9...11 { _ = try await h.send(conversation, token: h.alice, body: "{\"content\":\"question number \(index)\"}") }
            #expect(summarizer.calls.count == 2)
            #expect(summarizer.calls[1].previous == "summary 1 of 8 messages")
            #expect(summarizer.calls[1].messages.first?.content == "question number 5")
            #expect(summarizer.calls[1].messages.count == 8)
            let stored = try #require(try await h.store.summary(conversationID: conversation))
            #expect(stored.text == "summary 2 of \(summarizer.calls[1].messages.count) messages")
            #expect(stored.coveredMessageIDs.count == 8 + summarizer.calls[1].messages.count)
        }
    }

    @Test("GET /context lists every message with tokens and state; exclude, include and pin change what is sent")
    func userControl() async throws {
        try await Harness.run(catalog: Self.smallWindow, summarizer: RecordingSummarizer()) { h in
            let conversation = try await h.newConversation(h.alice)
            _ = try await h.send(conversation, token: h.alice, body: #"{"content":"my cat is called Miso"}"#)
            _ = try await h.send(conversation, token: h.alice, body: #"{"content":"I live in Lisbon"}"#)
            var view = try await h.request(.GET, "/api/conversations/\(conversation)/context", token: h.alice)
            #expect(view.status == 200)
            var messages = try #require(view.json?["messages"] as? [[String: Any]])
            #expect(messages.count == 4)
            #expect(messages.allSatisfy { $0["state"] as? String == "in_context" && $0["mode"] as? String == "auto" })
            #expect(messages.first?["tokens"] as? Int == 5)
            #expect(view.json?["context_window"] as? Int == 1000)
            #expect(view.json?["input_budget"] as? Int == 500)
            let firstID = try #require(messages.first?["id"] as? String)

            let excluded = try await h.request(.POST, "/api/messages/\(firstID)/exclude", token: h.alice)
            #expect(excluded.status == 200 && excluded.json?["mode"] as? String == "excluded")
            view = try await h.request(.GET, "/api/conversations/\(conversation)/context", token: h.alice)
            messages = try #require(view.json?["messages"] as? [[String: Any]])
            #expect(messages.first?["state"] as? String == "excluded")
            #expect((view.json?["totals"] as? [String: Any])?["excluded"] as? Int == 1)
            var echo = try await h.send(conversation, token: h.alice, body: #"{"content":"what do you know?"}"#, scenario: "echo")
            #expect(!echo.text.contains("Miso") && echo.text.contains("Lisbon"))
            #expect(Self.meta(echo)?["messages_excluded"] as? Int == 1)

            _ = try await h.request(.POST, "/api/messages/\(firstID)/include", token: h.alice)
            echo = try await h.send(conversation, token: h.alice, body: #"{"content":"and now?"}"#, scenario: "echo")
            #expect(echo.text.contains("Miso"))

            // Someone else's message: 403, and nothing changes.
            #expect(try await h.request(.POST, "/api/messages/\(firstID)/pin", token: h.bob).status == 403)
            #expect(try await h.request(.GET, "/api/conversations/\(conversation)/context", token: h.bob).status == 403)
        }
    }

    @Test("a pinned message stays in full after everything around it is summarised")
    func pinnedSurvivesFolding() async throws {
        let summarizer = RecordingSummarizer()
        try await Harness.run(catalog: Self.smallWindow, summarizer: summarizer) { h in
            let conversation = try await h.newConversation(h.alice)
            let first = try await h.send(conversation, token: h.alice, body: #"{"content":"the password hint is blue"}"#)
            let questionID = try #require(first.meta?["user_message_id"] as? String)
            #expect(try await h.request(.POST, "/api/messages/\(questionID)/pin", token: h.alice).status == 200)
            for index in 2...5 { _ = try await h.send(conversation, token: h.alice, body: "{\"content\":\"turn \(index)\"}") }
            let summarised = try await h.request(
                .POST, "/api/conversations/\(conversation)/summarize", token: h.alice, body: #"{"keep_last":2}"#)
            #expect(summarised.status == 200)
            // 10 messages, the pinned one is never folded, the last 2 stay: 7 folded.
            #expect(summarised.json?["summarised_now"] as? Int == 7)
            let messages = try #require(summarised.json?["messages"] as? [[String: Any]])
            #expect(messages.first?["state"] as? String == "in_context" && messages.first?["mode"] as? String == "pinned")
            #expect(messages.filter { $0["state"] as? String == "summarised" }.count == 7)
            #expect((summarised.json?["summary"] as? [String: Any])?["messages"] as? Int == 7)
            let echo = try await h.send(conversation, token: h.alice, body: #"{"content":"hint?"}"#, scenario: "echo")
            #expect(echo.text.contains("user: the password hint is blue"))
            #expect(echo.text.contains("summary 1 of 7 messages"))
        }
    }

    @Test("a message that cannot fit even alone gets 413 before anything is sent, and is kept")
    func overflowIsRefusedUpFront() async throws {
        var tiny = ModelCatalog()
        tiny.setContextWindow("sim", 100)
        try await Harness.run(budgets: true, catalog: tiny) { h in
            let conversation = try await h.newConversation(h.alice)
            let long = Array(repeating: "word", count: 60).joined(separator: " ")
            let turn = try await h.send(conversation, token: h.alice, body: "{\"content\":\"\(long)\"}")
            #expect(turn.status == 413)
            #expect(turn.body.contains("\"context_overflow\""))
            #expect(turn.body.contains("at most 50 input tokens (of its 100-token window)"))
            let stored = try await h.store.messages(conversationID: conversation)
            #expect(stored.map(\.role) == [.user])
            let alice = try #require(try await h.store.user(named: "alice"))
            #expect(try await h.store.budget(userID: alice.id, now: Date()).used == 0)
        }
    }

    @Test("without a summariser, what falls out of the window is left out and meta says so; a model's own rule wins")
    func withoutSummarizer() async throws {
        // The default keeps 10 recent messages; `sim` has its own rule of 2.
        let settings = ContextSettings(perModel: ["sim": .init(inputShare: 0.75, maxRecentMessages: 2)])
        try await Harness.run(catalog: Self.smallWindow, contextSettings: settings) { h in
            let conversation = try await h.newConversation(h.alice)
            for index in 1...3 { _ = try await h.send(conversation, token: h.alice, body: "{\"content\":\"turn \(index)\"}") }
            let echo = try await h.send(conversation, token: h.alice, body: #"{"content":"last"}"#, scenario: "echo")
            #expect(Self.meta(echo)?["messages_out_of_window"] as? Int == 4)
            #expect(Self.meta(echo)?["messages_in_full"] as? Int == 2)
            #expect(!echo.text.contains("turn 2") && echo.text.contains("user: turn 3"))
        }
    }
}

extension ContextTests {
    @Test("the provider summariser asks the model with the previous summary and the new messages, and drops loops")
    func providerSummarizerThroughTheSimulator() async throws {
        #expect(ProviderSummarizer.withoutRepeats("Ada goes to Lisbon. Bring a camera. Bring a camera! bring a camera. She is vegetarian.")
            == "Ada goes to Lisbon. Bring a camera. Bring a camera! She is vegetarian.")
        try await Harness.run(catalog: Self.smallWindow) { h in
            // The simulator's echo model answers with the request it got, so the summary shows what was asked.
            let provider = OpenAICompatibleProvider(
                baseURL: "http://127.0.0.1:\(h.simulatorPort)/v1", apiKey: nil, httpClient: Harness.client,
                logger: Logger(label: "test"))
            let summary = try await ProviderSummarizer(provider: provider, model: "sim-echo").summarize(
                previous: "Ada plans a trip.", messages: [ChatMessage(role: .user, content: "I am vegetarian.")])
            #expect(summary.hasPrefix("system: You keep a running summary of a conversation"))
            // Sentences are re-joined with single spaces once loops are dropped.
            #expect(summary.contains("Summary so far: Ada plans a trip."))
            #expect(summary.hasSuffix("New messages: user: I am vegetarian."))
        }
    }
}

extension ContextTests {
    @Test("with no known window an excluded message is still left out, and shown as excluded")
    func exclusionWithoutAWindow() async throws {
        try await Harness.run { h in
            let conversation = try await h.newConversation(h.alice)
            let first = try await h.send(conversation, token: h.alice, body: #"{"content":"my cat is called Miso"}"#)
            let questionID = try #require(first.meta?["user_message_id"] as? String)
            #expect(first.meta?["context"] == nil)
            _ = try await h.request(.POST, "/api/messages/\(questionID)/exclude", token: h.alice)
            let view = try await h.request(.GET, "/api/conversations/\(conversation)/context", token: h.alice)
            let states = (view.json?["messages"] as? [[String: Any]])?.map { $0["state"] as? String }
            #expect(states == ["excluded", "in_context"])
            let echo = try await h.send(conversation, token: h.alice, body: #"{"content":"what is my cat called?"}"#, scenario: "echo")
            #expect(!echo.text.contains("Miso is") && !echo.text.contains("user: my cat is called Miso"))
            #expect(echo.text.hasPrefix("assistant: "))
        }
    }
}
