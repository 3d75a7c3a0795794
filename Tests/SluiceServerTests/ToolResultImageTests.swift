import Foundation
import NIOHTTP1
import SluiceCore
@testable import SluiceServer
import SluiceTestSupport
import Testing

/// Images a function returned — Anthropic's `tool_result` with image blocks, as a screenshot tool (Playwright's MCP
/// server, Claude Code reading an image) sends them — reach the model: an Anthropic upstream gets them in the result,
/// an OpenAI-compatible one (whose `tool` messages take text only) as a user's message right after the results.
/// They were dropped without a word before.
@Suite("Images in function results")
struct ToolResultImageTests {
    static var tools: [[String: Any]] { [["name": "screenshot", "description": "Takes a screenshot", "input_schema": ["type": "object"]]] }

    static func messages(result: [[String: Any]]) -> [[String: Any]] {
        [
            ["role": "user", "content": "What is on the screen?"],
            ["role": "assistant", "content": [["type": "tool_use", "id": "toolu_1", "name": "screenshot", "input": [:] as [String: Any]]]],
            ["role": "user", "content": [["type": "tool_result", "tool_use_id": "toolu_1", "content": result]]],
        ]
    }

    /// The Messages API call that answers the screenshot tool's `result` (as `messages(result:)` sends it).
    static func call(
        _ h: Harness, result: [[String: Any]], model: String = "sim"
    ) async throws -> (status: Int, headers: HTTPHeaders, text: String) {
        try await h.post(
            "/v1/messages", token: h.alice, asAPIKey: true,
            json: ["model": model, "max_tokens": 300, "tools": tools, "messages": messages(result: result)])
    }

    static var screenshot: [[String: Any]] {
        [
            ["type": "text", "text": "Here it is"],
            ["type": "image", "source": ["type": "base64", "media_type": "image/png", "data": TestImages.png3x2]],
        ]
    }

    static func answer(_ reply: (status: Int, headers: HTTPHeaders, text: String)) throws -> String {
        let message = try #require(try JSONSerialization.jsonObject(with: Data(reply.text.utf8)) as? [String: Any], "\(reply.text)")
        return ((message["content"] as? [[String: Any]])?.first?["text"] as? String) ?? ""
    }

    @Test("to an OpenAI-compatible upstream: the result's text as the tool message, its images as a user's message after the results; stored with the result",
          arguments: TestDatabases.backends)
    func openAIUpstream(database: StoreBackend) async throws {
        try await Harness.run(database: database) { h in
            let reply = try await Self.call(h, result: Self.screenshot)
            #expect(reply.status == 200, "\(reply.text)")
            #expect(try Self.answer(reply) == "The functions returned: toolu_1 said Here it is. They showed: \(GatewayImageTests.seenPNG).")
            let conversation = try #require(reply.headers.first(name: "X-Sluice-Conversation-Id"))
            let result = try #require(try await h.store.messages(conversationID: conversation).first { $0.role == .tool })
            #expect(result.content == "Here it is" && result.images.map(\.mediaType) == ["image/png"])
        }
    }

    @Test("to an Anthropic upstream: the images stay in the tool_result, after its text")
    func anthropicUpstream() async throws {
        try await Harness.run(anthropic: true) { h in
            let reply = try await Self.call(h, result: Self.screenshot)
            #expect(reply.status == 200, "\(reply.text)")
            #expect(try Self.answer(reply) == "The functions returned: toolu_1 said Here it is \(GatewayImageTests.seenPNG).")
            // An image alone is a result too.
            let alone = try await Self.call(h, result: [Self.screenshot[1]])
            #expect(try Self.answer(alone) == "The functions returned: toolu_1 said \(GatewayImageTests.seenPNG).")
        }
    }

    @Test("what a result cannot carry is a 400 naming the block, and a model known not to see images refuses them")
    func refusals() async throws {
        var catalog = ModelCatalog()
        catalog.setAcceptsImages("text-only", false)
        try await Harness.run(catalog: catalog, listedModels: ["text-only"]) { h in
            let document: [[String: Any]] = [["type": "text", "text": "See"], ["type": "document", "source": ["type": "text", "data": "x"]]]
            let refused = try await Self.call(h, result: document)
            #expect(refused.status == 400)
            #expect(refused.text.contains("messages.2.content.0.content.1 is of type 'document'"), "\(refused.text)")
            let badImage: [[String: Any]] = [["type": "image", "source": ["type": "base64", "media_type": "image/png", "data": "bm90IGFuIGltYWdl"]]]
            let notImage = try await Self.call(h, result: badImage)
            #expect(notImage.status == 400 && notImage.text.contains("messages.2.content.0.content.0"), "\(notImage.text)")
            let blind = try await Self.call(h, result: Self.screenshot, model: "text-only")
            #expect(blind.status == 400 && blind.text.contains("does not see images"), "\(blind.text)")
        }
    }

    @Test("the Responses API: a function_call_output of input_text and input_image parts reaches the model with its images")
    func responsesOutput() async throws {
        try await Harness.run(anthropic: true) { h in
            let tools: [[String: Any]] = [["type": "function", "name": "screenshot", "parameters": ["type": "object"]]]
            let png = "data:image/png;base64,\(TestImages.png3x2)"
            let input: [[String: Any]] = [
                ["role": "user", "content": "What is on the screen?"],
                ["type": "function_call", "call_id": "call_1", "name": "screenshot", "arguments": "{}"],
                ["type": "function_call_output", "call_id": "call_1", "output": [
                    ["type": "input_text", "text": "Here it is"], ["type": "input_image", "image_url": png],
                ]],
            ]
            let answered = try await ResponsesGatewayTests.create(h, ["model": "sim", "tools": tools, "input": input])
            #expect(answered.status == 200, "\(answered.text)")
            #expect(ResponsesGatewayTests.outputText(try #require(answered.json)) == "The functions returned: call_1 said Here it is \(GatewayImageTests.seenPNG).")
            // Another kind of part is a 400 naming it.
            var file = input
            file[2]["output"] = [["type": "input_file", "file_id": "file-1"]]
            let refused = try await ResponsesGatewayTests.create(h, ["model": "sim", "tools": tools, "input": file])
            #expect(refused.status == 400 && refused.text.contains("input.2.output.0"), "\(refused.text)")
        }
    }
}
