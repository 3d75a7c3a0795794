import Foundation
import SluiceCore
import SluiceSimulator
import Testing

/// `response_format` through the gateway: checked at the door, and answered as JSON by an upstream that has no
/// JSON mode of its own (Anthropic, through a forced tool).
@Suite("Gateway response_format")
struct GatewayResponseFormatTests {
    static func body(_ format: String, stream: Bool = false) -> String {
        #"{"model":"sim","stream":\#(stream),"messages":[{"role":"user","content":"Answer in JSON."}],"response_format":\#(format)}"#
    }

    @Test("on the Anthropic provider a JSON format is answered with the tool's input: one JSON object, ended with stop, stored as sent")
    func anthropicAnswersWithJSON() async throws {
        try await Harness.run(anthropic: true) { h in
            let schema = #"{"type":"json_schema","json_schema":{"name":"reply","schema":{"type":"object","properties":{"text":{"type":"string"}}}}}"#
            for format in [#"{"type":"json_object"}"#, schema] {
                let reply = try await h.request(.POST, "/v1/chat/completions", token: h.alice, body: Self.body(format))
                #expect(reply.status == 200)
                let choice = try #require((reply.json?["choices"] as? [[String: Any]])?.first)
                #expect(choice["finish_reason"] as? String == "stop")
                let content = try #require((choice["message"] as? [String: Any])?["content"] as? String)
                let answer = try #require(try JSONSerialization.jsonObject(with: Data(content.utf8)) as? [String: Any], "\(content)")
                #expect(answer["text"] as? String == SimulatedText.answer(tokens: 24))
                let messageID = try #require(reply.headers.first(name: "X-Sluice-Message-Id"))
                let stored = try await h.settledMessage(messageID)
                #expect(stored.content == content && stored.status == .complete)
            }
            // Without a format the same model answers in prose.
            let prose = try await h.request(.POST, "/v1/chat/completions", token: h.alice, body: Self.body(#"{"type":"text"}"#))
            let message = (prose.json?["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any]
            #expect(message?["content"] as? String == SimulatedText.answer(tokens: 24))
        }
    }

    @Test("a malformed response_format is a 400 naming the field, and nothing is stored or sent")
    func malformedFormatsAreRefused() async throws {
        try await Harness.run { h in
            let cases: [(String, String)] = [
                (#""json""#, "response_format"),
                (#"{"type":"xml"}"#, "response_format.type"),
                (#"{"type":"json_schema"}"#, "response_format.json_schema"),
                (#"{"type":"json_schema","json_schema":{"schema":{}}}"#, "response_format.json_schema.name"),
                (#"{"type":"json_schema","json_schema":{"name":"has space","schema":{}}}"#, "response_format.json_schema.name"),
                (#"{"type":"json_schema","json_schema":{"name":"n","schema":[1]}}"#, "response_format.json_schema.schema"),
                (#"{"type":"json_schema","json_schema":{"name":"n","strict":"yes"}}"#, "response_format.json_schema.strict"),
            ]
            for (format, param) in cases {
                let reply = try await h.request(.POST, "/v1/chat/completions", token: h.alice, body: Self.body(format))
                #expect(reply.status == 400, "\(format)")
                let error = reply.json?["error"] as? [String: Any]
                #expect(error?["param"] as? String == param, "\(format)")
            }
            // A body JSONDecoder reads but the order-keeping parser does not (nesting beyond 128 levels) is refused,
            // not answered without its format.
            let deep = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
            let nested = try await h.request(
                .POST, "/v1/chat/completions", token: h.alice,
                body: #"{"model":"sim","x_unknown":\#(deep),"messages":[{"role":"user","content":"Hi"}],"response_format":{"type":"json_object"}}"#)
            #expect(nested.status == 400 && nested.errorMessage?.contains("not JSON that Sluice can read") == true)
            let conversations = try await h.request(.GET, "/api/conversations", token: h.alice)
            #expect((conversations.json?["conversations"] as? [Any])?.isEmpty == true)
        }
    }
}
