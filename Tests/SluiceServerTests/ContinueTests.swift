import Foundation
import SluiceCore
@testable import SluiceServer
import SluiceSimulator
import Testing

@Suite("Continuing an answer that ended early")
struct ContinueTests {
    static func words(_ text: String) -> Int { text.split(whereSeparator: \.isWhitespace).count }

    /// An answer the upstream broke off mid-stream: the turn, its id, the partial answer and its token count.
    static func brokenAnswer(_ h: Harness) async throws -> (turn: Harness.Turn, id: String, partial: Message, tokens: Int) {
        let conversation = try await h.newConversation(h.alice)
        let broken = try await h.send(conversation, token: h.alice, scenario: "reset-mid")
        let partial = try await h.answer(broken)
        #expect(partial.status == .partial)
        return (broken, try #require(broken.assistantID), partial, broken.tokens.count)
    }

    @Test("continue after a broken stream: new tokens are appended and numbered after the old ones; the upstream saw the partial text")
    func continueAfterReset() async throws {
        try await Harness.run { h in
            let (broken, id, partial, k) = try await Self.brokenAnswer(h)
            // The broken stream sent no usage, so Sluice counted what it cost: the question and k tokens.
            #expect(partial.usage?.source == .counted)
            #expect(partial.usage?.inputTokens == 3 + (4 + 2))
            #expect(partial.usage?.outputTokens == k)

            let continued = try await h.stream("/api/messages/\(id)/continue", token: h.alice, method: .POST)
            #expect(continued.names == ["meta"] + Array(repeating: "token", count: 24) + ["done"])
            #expect(continued.meta?["assistant_message_id"] as? String == id)
            #expect(continued.events.first { $0.event == "token" }?.id == "\(id):\(k + 1)")
            let stored = try await h.answer(broken)
            #expect(stored.status == .complete)
            #expect(stored.error == nil)
            #expect(stored.content == partial.content + SimulatedText.answer(tokens: 24))
            #expect(stored.tokenEnds.count == k + 24)
            // The simulator counts 3 + (4 + words) per message: question, the partial answer, the instruction.
            // The message's usage is both upstream calls: the broken one (counted) and the continuation (reported).
            let continuationInput = 3 + (4 + 2) + (4 + Self.words(partial.content)) + (4 + Self.words(ContinueRoute.instruction))
            let usage = continued.final?["usage"] as? [String: Any]
            #expect(usage?["input_tokens"] as? Int == 3 + (4 + 2) + continuationInput)
            #expect(usage?["output_tokens"] as? Int == k + 24)
            #expect(usage?["source"] as? String == "counted")

            let replay = try await h.stream("/api/messages/\(id)/events?after=0", token: h.alice)
            #expect(replay.text == stored.content)
        }
    }

    @Test("a model whose upstream continues a prefill gets the partial answer as its answer's start, no instruction; llama-server's repeat of it is taken off",
          arguments: [false, true])
    func continueByPrefill(anthropic: Bool) async throws {
        var catalog = ModelCatalog()
        catalog.setContinuesPrefill("sim", true)
        try await Harness.run(catalog: catalog, anthropic: anthropic) { h in
            let (broken, id, partial, k) = try await Self.brokenAnswer(h)

            // The simulator, as llama-server, says the partial answer again before going on; Anthropic's goes on (and,
            // as the API, refuses a start that ends with a space: Sluice sends it without).
            let continued = try await h.stream("/api/messages/\(id)/continue", token: h.alice, method: .POST)
            #expect(continued.names.last == "done", "\(continued.body)")
            #expect(continued.events.first { $0.event == "token" }?.id == "\(id):\(k + 1)")
            let stored = try await h.answer(broken)
            #expect(stored.status == .complete)
            #expect(stored.content == partial.content + SimulatedText.answer(tokens: 24))
            if !anthropic {
                // Question and partial answer, no instruction: 3 + (4 + words) per message.
                let usage = continued.final?["usage"] as? [String: Any]
                #expect(usage?["input_tokens"] as? Int == 3 + (4 + 2) + 3 + (4 + 2) + (4 + Self.words(partial.content)))
            }
        }
    }

    @Test("continue after a stop picks up the cancelled answer")
    func continueAfterCancel() async throws {
        // Long enough (about 10 s) that the stop always lands before the answer ends, even on a loaded machine.
        try await Harness.run(simulator: SimulatorSettings(tokens: 2000, delay: .milliseconds(5))) { h in
            let conversation = try await h.newConversation(h.alice)
            let first = try await h.send(conversation, token: h.alice) { event, count in
                if count == 4, let id = event.id?.split(separator: ":").first {
                    _ = try await h.request(.POST, "/api/messages/\(id)/cancel", token: h.alice)
                }
                return true
            }
            let id = try #require(first.assistantID)
            #expect(try await h.answer(first).status == .cancelled)
            let continued = try await h.stream(
                "/api/messages/\(id)/continue", token: h.alice, method: .POST, body: "{\"temperature\":0.5}",
                headers: ["X-Sluice-Tokens": "5"])
            #expect(continued.last?.event == "done")
            let stored = try await h.answer(first)
            #expect(stored.status == .complete)
            #expect(stored.content.hasPrefix(first.text))
        }
    }

    @Test("only ended answers of your own can be continued")
    func refusals() async throws {
        try await Harness.run { h in
            let conversation = try await h.newConversation(h.alice)
            let done = try await h.send(conversation, token: h.alice)
            let id = try #require(done.assistantID)
            let complete = try await h.request(.POST, "/api/messages/\(id)/continue", token: h.alice)
            #expect(complete.status == 409)
            #expect(complete.errorCode == "not_continuable")
            let userID = try #require(done.meta?["user_message_id"] as? String)
            #expect(try await h.request(.POST, "/api/messages/\(userID)/continue", token: h.alice).status == 400)
            #expect(try await h.request(.POST, "/api/messages/\(id)/continue", token: h.bob).status == 403)
            #expect(try await h.request(.POST, "/api/messages/nope/continue", token: h.alice).status == 404)
        }
    }
}
