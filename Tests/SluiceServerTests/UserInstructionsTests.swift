import Foundation
import SluiceCore
import SluiceGuard
@testable import SluiceServer
import SluiceTestSupport
import Testing

/// A user's instructions for all their conversations (ChatGPT's custom instructions): kept per user, sent before a
/// web conversation's own system prompt on every kind of turn, counted where the prompt is counted, and never added
/// to a gateway call, which brings its own system prompt.
@Suite("Instructions for all of a user's conversations")
struct UserInstructionsTests {
    static let instructions = "I am a Swift developer. Answer with code first."

    static func set(_ h: Harness, _ token: String, _ body: String) async throws -> Harness.Reply {
        try await h.request(.PUT, "/api/me/instructions", token: token, body: body)
    }

    @Test("kept per user: set, read, replaced, removed; another user's are their own", arguments: TestDatabases.backends)
    func kept(database: StoreBackend) async throws {
        try await Harness.run(database: database) { h in
            let none = try await h.request(.GET, "/api/me/instructions", token: h.alice)
            #expect(none.status == 200 && none.json?["instructions"] is NSNull)
            let saved = try await Self.set(h, h.alice, #"{"instructions":"\#(Self.instructions)"}"#)
            #expect(saved.status == 200 && saved.json?["instructions"] as? String == Self.instructions)
            #expect(try await h.request(.GET, "/api/me/instructions", token: h.alice).json?["instructions"] as? String == Self.instructions)
            #expect(try await h.request(.GET, "/api/me/instructions", token: h.bob).json?["instructions"] is NSNull)

            _ = try await Self.set(h, h.alice, #"{"instructions":"Be brief."}"#)
            #expect(try await h.request(.GET, "/api/me/instructions", token: h.alice).json?["instructions"] as? String == "Be brief.")
            for removal in [#"{"instructions":""}"#, #"{"instructions":"  \n"}"#, #"{"instructions":null}"#] {
                _ = try await Self.set(h, h.alice, #"{"instructions":"Be brief."}"#)
                #expect(try await Self.set(h, h.alice, removal).json?["instructions"] is NSNull)
                #expect(try await h.request(.GET, "/api/me/instructions", token: h.alice).json?["instructions"] is NSNull)
            }
        }
    }

    @Test("bad input is a 400 that says what to send, and changes nothing")
    func refused() async throws {
        try await Harness.run { h in
            _ = try await Self.set(h, h.alice, #"{"instructions":"Be brief."}"#)
            let long = String(repeating: "a", count: InstructionsRoute.maxCharacters + 1)
            for body in [#"{"instructions":"\#(long)"}"#, #"{"instructions":5}"#, #"{}"#, "[1]"] {
                let reply = try await Self.set(h, h.alice, body)
                #expect(reply.status == 400, "\(body.prefix(40))")
                #expect((reply.json?["error"] as? [String: Any])?["message"] as? String != nil)
            }
            #expect(try await h.request(.GET, "/api/me/instructions", token: h.alice).json?["instructions"] as? String == "Be brief.")
            #expect(try await h.request(.GET, "/api/me/instructions", token: nil).status == 401)
            #expect(try await Self.set(h, "not-a-token", #"{"instructions":"x"}"#).status == 401)
        }
    }

    @Test("every web turn sends them before the conversation's own system prompt; the gateway's calls do not",
          arguments: TestDatabases.backends)
    func sent(database: StoreBackend) async throws {
        try await Harness.run(database: database) { h in
            _ = try await Self.set(h, h.alice, #"{"instructions":"\#(Self.instructions)"}"#)
            let conversation = try await h.newConversation(h.alice, body: #"{"system_prompt":"Answer in French."}"#)
            // The echo quotes the system prompt it got, and Sluice redacts a system prompt quoted whole: the marker
            // stands exactly where the personalized prompt (instructions, blank line, own prompt) was quoted.
            let redacted = "system: \(OutputRedactor.systemPromptMarker)\nuser: "
            let turn = try await h.send(conversation, token: h.alice, body: #"{"content":"Hi"}"#, scenario: "echo")
            #expect(turn.text == redacted + "Hi\n", "\(turn.body)")
            // Counted as sent (the simulator counts words, 4 a message and 3 for the reply): 9 + 3 words of system.
            #expect((turn.final?["usage"] as? [String: Any])?["input_tokens"] as? Int == 3 + (4 + 9 + 3) + (4 + 1))
            // The conversation keeps its own prompt: the user's instructions are not copied into it.
            let shown = try await h.request(.GET, "/api/conversations/\(conversation)", token: h.alice)
            #expect(shown.json?["system_prompt"] as? String == "Answer in French.")

            // Regenerate, edit and continue send them too.
            let answer = try #require(turn.assistantID)
            let again = try await h.stream(
                "/api/messages/\(answer)/regenerate", token: h.alice, method: .POST, body: "{}", headers: ["X-Sluice-Scenario": "echo"])
            #expect(again.text == redacted + "Hi\n", "\(again.body)")
            let question = try #require(turn.meta?["user_message_id"] as? String)
            let edited = try await h.stream(
                "/api/messages/\(question)/edit", token: h.alice, method: .POST, body: #"{"content":"Hello"}"#,
                headers: ["X-Sluice-Scenario": "echo"])
            #expect(edited.text == redacted + "Hello\n", "\(edited.body)")
            let broken = try await h.send(conversation, token: h.alice, body: #"{"content":"More"}"#, scenario: "reset-mid")
            let brokenID = try #require(broken.assistantID)
            #expect(try await h.store.message(id: brokenID)?.status == .partial)
            let continued = try await h.stream(
                "/api/messages/\(brokenID)/continue", token: h.alice, method: .POST, body: "{}", headers: ["X-Sluice-Scenario": "echo"])
            #expect(continued.text.hasPrefix(redacted), "\(continued.body)")

            // A conversation without its own prompt gets the instructions alone; another user's turns none of them.
            let plain = try await h.newConversation(h.alice)
            let alone = try await h.send(plain, token: h.alice, body: #"{"content":"Hi"}"#, scenario: "echo")
            #expect(alone.text == redacted + "Hi\n")
            #expect((alone.final?["usage"] as? [String: Any])?["input_tokens"] as? Int == 3 + (4 + 9) + (4 + 1))
            let bobs = try await h.newConversation(h.bob)
            #expect(try await h.send(bobs, token: h.bob, body: #"{"content":"Hi"}"#, scenario: "echo").text == "user: Hi\n")

            // The gateway: the caller's messages as sent.
            let gateway = try await h.post(
                "/v1/chat/completions", token: h.alice, headers: ["X-Sluice-Scenario": "echo"],
                json: ["model": "sim", "messages": [["role": "user", "content": "Hi"]]])
            let json = try #require(try JSONSerialization.jsonObject(with: Data(gateway.text.utf8)) as? [String: Any])
            let content = ((json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String
            #expect(content == "user: Hi\n")
        }
    }

    @Test("the instructions come first, a blank line, then the conversation's own; nothing changes without them")
    func merged() {
        let conversation = Conversation.starting(userID: "u", title: "t", model: "m", systemPrompt: "Answer in French.")
        #expect(conversation.personalized(by: "Be brief.").systemPrompt == "Be brief.\n\nAnswer in French.")
        #expect(conversation.personalized(by: nil) == conversation && conversation.personalized(by: "") == conversation)
        var bare = conversation
        bare.systemPrompt = nil
        #expect(bare.personalized(by: "Be brief.").systemPrompt == "Be brief.")
    }

    @Test("counted where the prompt is counted: the estimate's system part and the conversation's context figures")
    func counted() async throws {
        try await Harness.run { h in
            let conversation = try await h.newConversation(h.alice, body: #"{"system_prompt":"Answer in French."}"#)
            let estimate = {
                try await h.request(.POST, "/api/conversations/\(conversation)/estimate", token: h.alice, body: #"{"content":"Hi"}"#)
                    .json.flatMap { ($0["breakdown"] as? [String: Any])?["system"] as? Int }
            }
            let own = try #require(try await estimate())
            _ = try await Self.set(h, h.alice, #"{"instructions":"\#(Self.instructions)"}"#)
            let both = try #require(try await estimate())
            #expect(both > own + 5, "the instructions' tokens are counted: \(own) → \(both)")
            let view = try await h.request(.GET, "/api/conversations/\(conversation)/context", token: h.alice)
            #expect(view.status == 200)
        }
    }
}
