import Foundation
import SluiceCore
import Testing
@testable import SluiceProviders

/// A caller's `response_format` on the way upstream: as OpenAI's field for OpenAI-compatible servers, as a forced
/// tool for Anthropic, and the caller's schema unchanged (member order included) either way.
struct ResponseFormatBodyTests {
    static let schemaText = #"{"type":"object","properties":{"zeta":{"type":"integer"},"alpha":{"type":"string","enum":["a","b"]}},"required":["zeta","alpha"],"additionalProperties":false}"#

    static func request(_ format: ResponseFormat?) -> ChatRequest {
        ChatRequest(model: "m", messages: [ChatMessage(role: .user, content: "hi")], sampling: SamplingOptions(responseFormat: format))
    }

    static func schemaFormat() throws -> ResponseFormat {
        .jsonSchema(JSONSchemaFormat(
            name: "pick", description: "One pick.", schema: try JSONValue(parsing: Array(schemaText.utf8)), strict: true))
    }

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test("OpenAI-compatible upstreams get response_format as OpenAI spells it, the schema as the caller wrote it")
    func openAIBody() throws {
        let plain = try #require(try JSONSerialization.jsonObject(with: Data(CompletionRequestBody.json(Self.request(nil)))) as? [String: Any])
        #expect(plain["response_format"] == nil)

        let object = try #require(try JSONSerialization.jsonObject(
            with: Data(CompletionRequestBody.json(Self.request(.jsonObject)))) as? [String: Any])
        #expect((object["response_format"] as? [String: Any])?["type"] as? String == "json_object")

        let bytes = CompletionRequestBody.json(Self.request(try Self.schemaFormat()))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        let format = try #require(json["response_format"] as? [String: Any])
        #expect(format["type"] as? String == "json_schema")
        let spec = try #require(format["json_schema"] as? [String: Any])
        #expect(spec["name"] as? String == "pick" && spec["description"] as? String == "One pick." && spec["strict"] as? Bool == true)
        // Byte for byte: the properties' order is the order a constrained model writes the fields in.
        #expect(Self.text(bytes).contains(#""schema":\#(Self.schemaText)"#))
    }

    @Test("Anthropic gets one tool with the caller's schema as its input schema, and tool_choice forcing it")
    func anthropicBody() throws {
        let plain = try #require(try JSONSerialization.jsonObject(
            with: Data(MessagesRequestBody(Self.request(nil), defaultMaxTokens: 64).json())) as? [String: Any])
        #expect(plain["tools"] == nil && plain["tool_choice"] == nil && plain["max_tokens"] as? Int == 64)

        let bytes = try MessagesRequestBody(Self.request(try Self.schemaFormat()), defaultMaxTokens: 64).json()
        let json = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        let tools = try #require(json["tools"] as? [[String: Any]])
        #expect(tools.count == 1 && tools[0]["name"] as? String == "pick" && tools[0]["description"] as? String == "One pick.")
        #expect(Self.text(bytes).contains(#""input_schema":\#(Self.schemaText)"#))
        let choice = try #require(json["tool_choice"] as? [String: Any])
        #expect(choice["type"] as? String == "tool" && choice["name"] as? String == "pick")
        #expect(json["model"] as? String == "m" && json["stream"] as? Bool == true && json["messages"] != nil)

        let object = try #require(try JSONSerialization.jsonObject(
            with: Data(MessagesRequestBody(Self.request(.jsonObject), defaultMaxTokens: 64).json())) as? [String: Any])
        let tool = try #require((object["tools"] as? [[String: Any]])?.first)
        #expect(tool["name"] as? String == MessagesRequestBody.jsonToolName)
        #expect((tool["input_schema"] as? [String: Any])?["type"] as? String == "object")
    }

    @Test("Anthropic's tool input pieces are the answer's text and its tool_use stop ends it — only when the turn asked for JSON")
    func anthropicToolStream() throws {
        let events = [
            #"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t","name":"pick","input":{}}}"#,
            #"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"zeta\": "}}"#,
            #"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"4}"}}"#,
            #"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":5}}"#,
        ]
        func decoded(answersThroughTool: Bool) throws -> [ProviderEvent] {
            var decoder = AnthropicEventDecoder(answersThroughTool: answersThroughTool)
            return try events.flatMap { data -> [ProviderEvent] in
                switch try decoder.decode(data) {
                case .event(let event): return [event]
                case .events(let list): return list
                case .endOfStream: return []
                }
            }
        }
        #expect(try decoded(answersThroughTool: true) == [.delta(#"{"zeta": "#), .delta("4}"), .finish(reason: "stop")])
        // Without a format, the tool_use is a function call, not text.
        #expect(try decoded(answersThroughTool: false) == [
            .toolCall(ToolCallDelta(index: 0, id: "t", name: "pick")), .toolCall(ToolCallDelta(index: 0, arguments: #"{"zeta": "#)),
            .toolCall(ToolCallDelta(index: 0, arguments: "4}")), .finish(reason: "tool_calls"),
        ])
    }
}
