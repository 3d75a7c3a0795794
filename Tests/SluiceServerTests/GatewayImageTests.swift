import Foundation
import NIOHTTP1
import SluiceCore
import SluiceProviders
@testable import SluiceServer
import SluiceSimulator
import SluiceTestSupport
import Testing

/// Images in a gateway call — OpenAI's `image_url` parts, Anthropic's `image` blocks, the Responses API's
/// `input_image` — reach the upstream intact (the simulator's `echo` says what it got: type, size and a hash of the
/// bytes), are stored with the user's message, counted, and refused with a reason when they cannot be passed on.
@Suite("Images on the gateway")
struct GatewayImageTests {
    static let png = TestImages.dataURL(TestImages.png3x2)
    static let link = "https://example.com/cat.png"
    /// What the simulator says of the PNG and of the link (`SeenImages`).
    static let seenPNG = "image: image/png \(TestImages.byteCount(TestImages.png3x2)) bytes fnv1a \(TestImages.fnv1a(TestImages.png3x2))"

    static func answerText(_ reply: (status: Int, headers: HTTPHeaders, text: String)) throws -> String {
        let json = try #require(try JSONSerialization.jsonObject(with: Data(reply.text.utf8)) as? [String: Any], "\(reply.text)")
        let message = (json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any]
        return message?["content"] as? String ?? ""
    }

    static func usage(_ reply: (status: Int, headers: HTTPHeaders, text: String)) throws -> [String: Any] {
        let json = try #require(try JSONSerialization.jsonObject(with: Data(reply.text.utf8)) as? [String: Any])
        return try #require(json["usage"] as? [String: Any])
    }

    @Test("Chat Completions: image_url parts reach an OpenAI-compatible upstream intact, and are stored with the message",
          arguments: TestDatabases.backends)
    func chatCompletions(database: StoreBackend) async throws {
        try await Harness.run(database: database) { h in
            let messages: [[String: Any]] = [["role": "user", "content": [
                ["type": "text", "text": "What is in these?"],
                ["type": "image_url", "image_url": ["url": Self.png, "detail": "high"]],
                // The URL alone, as some clients send it.
                ["type": "image_url", "image_url": Self.link],
            ]]]
            let reply = try await h.post(
                "/v1/chat/completions", token: h.alice, headers: ["X-Sluice-Scenario": "echo"],
                json: ["model": "sim", "messages": messages])
            #expect(reply.status == 200, "\(reply.text)")
            #expect(try Self.answerText(reply) == "user: What is in these?\n\(Self.seenPNG) (detail high)\nimage: \(Self.link)\n")
            // The upstream's own count of the images (100 each in the simulator) is what is charged.
            let reported = try #require(try Self.usage(reply)["prompt_tokens"] as? Int)
            let plain = try await h.post(
                "/v1/chat/completions", token: h.alice, headers: ["X-Sluice-Scenario": "echo"],
                json: ["model": "sim", "messages": [["role": "user", "content": "What is in these?"]]])
            #expect(try Self.usage(plain)["prompt_tokens"] as? Int == reported - 2 * SeenImages.tokensPerImage)

            // Stored with the user's message: the images, their type and size; the text apart.
            let id = try #require(reply.headers.first(name: "X-Sluice-Conversation-Id"))
            let question = try #require(try await h.store.messages(conversationID: id).first { $0.role == .user })
            #expect(question.content == "What is in these?")
            #expect(question.images.map(\.url) == [Self.png, Self.link])
            #expect(question.images.first.map { ($0.mediaType, $0.width, $0.height, $0.detail) == ("image/png", 3, 2, .high) } == true)
            #expect(question.images.last?.detail == nil)

            // The next call sends that history back: the same conversation goes on (the images are part of its
            // key), and the earlier images go upstream again.
            let answer = try Self.answerText(reply)
            let next = try await h.post(
                "/v1/chat/completions", token: h.alice, headers: ["X-Sluice-Scenario": "echo"],
                json: ["model": "sim", "messages": messages + [
                    ["role": "assistant", "content": answer], ["role": "user", "content": "And now?"],
                ]])
            #expect(next.headers.first(name: "X-Sluice-Conversation-Id") == id)
            #expect(try Self.answerText(next).contains("\(Self.seenPNG) (detail high)\nimage: \(Self.link)\nassistant: "))
            // Another image in the same place is another history: a conversation of its own.
            var other = messages
            other[0]["content"] = [["type": "text", "text": "What is in these?"], ["type": "image_url", "image_url": ["url": TestImages.dataURL(TestImages.gif5x7)]]]
            let elsewhere = try await h.post(
                "/v1/chat/completions", token: h.alice, headers: ["X-Sluice-Scenario": "echo"],
                json: ["model": "sim", "messages": other + [
                    ["role": "assistant", "content": answer], ["role": "user", "content": "And now?"],
                ]])
            #expect(elsewhere.status == 200 && elsewhere.headers.first(name: "X-Sluice-Conversation-Id") != id)
        }
    }

    @Test("without the upstream's usage, an image counts as OpenAI's estimate (255 for a small one, 85 for a low look)")
    func countedWithoutUsage() async throws {
        try await Harness.run { h in
            func promptTokens(_ content: Any) async throws -> Int {
                let reply = try await h.post(
                    "/v1/chat/completions", token: h.alice, headers: ["X-Sluice-Scenario": "no-usage"],
                    json: ["model": "sim", "messages": [["role": "user", "content": content]], "stream": true,
                           "stream_options": ["include_usage": true]])
                let last = try #require(reply.text.split(separator: "\n").last { $0.hasPrefix("data: {") && $0.contains("\"usage\":{") })
                let chunk = try #require(try JSONSerialization.jsonObject(with: Data(last.dropFirst(6).utf8)) as? [String: Any])
                return try #require((chunk["usage"] as? [String: Any])?["prompt_tokens"] as? Int)
            }
            let text = try await promptTokens("Look")
            let withImages = try await promptTokens([
                ["type": "text", "text": "Look"], ["type": "image_url", "image_url": ["url": Self.png]],
                ["type": "image_url", "image_url": ["url": Self.link, "detail": "low"]],
            ])
            #expect(withImages - text == 255 + 85)
        }
    }

    @Test("what cannot be passed on is a 400 naming the part, and nothing is stored")
    func refusals() async throws {
        let notAnImage = TestImages.dataURL(Data("plain words".utf8).base64EncodedString())
        try await Harness.run { h in
            let cases: [([[String: Any]], String, String)] = [
                ([["role": "user", "content": [["type": "image_url", "image_url": ["url": notAnImage]]]]],
                 "messages.0.content.0.image_url", "not a PNG, JPEG, GIF or WebP image"),
                ([["role": "user", "content": [["type": "image_url", "image_url": ["url": Self.png, "detail": "max"]]]]],
                 "messages.0.content.0.image_url", "use auto, low or high"),
                ([["role": "user", "content": [["type": "image_url", "image_url": ["url": "file:///etc/passwd"]]]]],
                 "messages.0.content.0.image_url", "neither a data URL"),
                ([["role": "system", "content": [["type": "image_url", "image_url": ["url": Self.png]]]],
                  ["role": "user", "content": "Hi"]],
                 "messages.0.content", "only the user's messages may show images"),
                ([["role": "user", "content": [["type": "input_audio", "input_audio": ["data": "", "format": "wav"]]]]],
                 "messages.0.content.0", "text and image_url parts only"),
            ]
            for (messages, param, words) in cases {
                let reply = try await h.post("/v1/chat/completions", token: h.alice, json: ["model": "sim", "messages": messages])
                #expect(reply.status == 400, "\(reply.text)")
                let error = try #require((try JSONSerialization.jsonObject(with: Data(reply.text.utf8)) as? [String: Any])?["error"] as? [String: Any])
                #expect(error["param"] as? String == param)
                #expect((error["message"] as? String)?.contains(words) == true, "\(error)")
            }
            // An image alone is a question.
            let alone = try await h.post(
                "/v1/chat/completions", token: h.alice,
                json: ["model": "sim", "messages": [["role": "user", "content": [["type": "image_url", "image_url": ["url": Self.png]]]]]])
            #expect(alone.status == 200, "\(alone.text)")
            #expect(try await h.request(.GET, "/api/conversations", token: h.alice).json?["conversations"].map { ($0 as? [Any])?.count } == 1)
        }
    }

    @Test("on every wire: images only in the user's messages, and at most 100 a call, each a 400 naming the place")
    func sameRulesOnEveryWire() async throws {
        try await Harness.run { h in
            let link = { @Sendable (n: Int) in "https://example.com/\(n).png" }
            func refusal(_ path: String, _ json: [String: Any]) async throws -> String {
                let reply = try await h.post(path, token: h.alice, asAPIKey: path == "/v1/messages", json: json)
                #expect(reply.status == 400, "\(path): \(reply.text.prefix(200))")
                let body = try #require(try JSONSerialization.jsonObject(with: Data(reply.text.utf8)) as? [String: Any])
                return (body["error"] as? [String: Any])?["message"] as? String ?? ""
            }
            let manyParts: [[String: Any]] = (0...ImageInput.maxPerCall).map { ["type": "image_url", "image_url": ["url": link($0)]] }
            let said1 = try await refusal("/v1/chat/completions", ["model": "sim", "messages": [["role": "user", "content": manyParts]]])
            #expect(said1 == "The call shows more than 100 images (up to 'messages.0.content'); send fewer.")
            let said2 = try await refusal("/v1/chat/completions", ["model": "sim", "messages": [
                ["role": "assistant", "content": [["type": "image_url", "image_url": ["url": link(0)]]]], ["role": "user", "content": "Hi"]]])
            #expect(said2 == "'messages.0.content' is an image in a message whose role is 'assistant'; only the user's messages may show images.")

            let manyBlocks: [[String: Any]] = (0...ImageInput.maxPerCall).map { ["type": "image", "source": ["type": "url", "url": link($0)]] }
            let said3 = try await refusal("/v1/messages", ["model": "sim", "max_tokens": 10, "messages": [["role": "user", "content": manyBlocks]]])
            #expect(said3 == "The call shows more than 100 images (up to 'messages.0.content.0'); send fewer.")
            let said4 = try await refusal("/v1/messages", ["model": "sim", "max_tokens": 10, "messages": [
                ["role": "user", "content": "Hi"], ["role": "assistant", "content": [["type": "text", "text": "Look"], manyBlocks[0]]],
                ["role": "user", "content": "And?"]]])
            #expect(said4 == "'messages.1.content.1' is an image in a message whose role is 'assistant'; only the user's messages may show images.")

            let manyInputs: [[String: Any]] = (0...ImageInput.maxPerCall).map { ["type": "input_image", "image_url": link($0)] }
            let said5 = try await refusal("/v1/responses", ["model": "sim", "input": [["role": "user", "content": manyInputs]]])
            #expect(said5 == "The call shows more than 100 images (up to 'input.0'); send fewer.")
            // Within the limit, spread over messages, the same images are passed on.
            let spread = [["role": "user", "content": Array(manyParts.prefix(50))], ["role": "assistant", "content": "Seen."],
                          ["role": "user", "content": Array(manyParts.prefix(50))]]
            #expect(try await h.post("/v1/chat/completions", token: h.alice, json: ["model": "sim", "messages": spread]).status == 200)
        }
    }

    @Test("a model known not to see images is refused before anything is stored or sent; a model that does is asked")
    func modelsWithoutVision() async throws {
        var catalog = ModelCatalog()
        catalog.setAcceptsImages("sim", false)
        catalog.setAcceptsImages("seeing-model", true)
        try await Harness.run(catalog: catalog, listedModels: ["seeing-model"]) { h in
            let before = try await h.simulatorStats()["streams_started"] as? Int
            let content: [[String: Any]] = [["type": "text", "text": "See?"], ["type": "image_url", "image_url": ["url": Self.png]]]
            let refused = try await h.post("/v1/chat/completions", token: h.alice, json: ["model": "sim", "messages": [["role": "user", "content": content]]])
            #expect(refused.status == 400)
            #expect(refused.text.contains("images_unsupported") && refused.text.contains("'sim' does not see images"))
            #expect(try await h.simulatorStats()["streams_started"] as? Int == before)
            #expect((try await h.request(.GET, "/api/conversations", token: h.alice).json?["conversations"] as? [Any])?.isEmpty == true)
            // The same call to a model that sees images, and a text-only call to the other, are answered.
            let seen = try await h.post("/v1/chat/completions", token: h.alice, json: ["model": "seeing-model", "messages": [["role": "user", "content": content]]])
            #expect(seen.status == 200, "\(seen.text)")
            let text = try await h.post("/v1/chat/completions", token: h.alice, json: ["model": "sim", "messages": [["role": "user", "content": "See?"]]])
            #expect(text.status == 200)
        }
    }

    @Test("a model that does not see images is no fallback for a call that shows them")
    func fallbacksSkipModelsWithoutVision() async throws {
        var catalog = ModelCatalog()
        catalog.setAcceptsImages("text-only", false)
        try await Harness.run(catalog: catalog, fallbacks: ["sim-500": ["text-only", "sim"]], listedModels: ["sim-500", "text-only"]) { h in
            let content: [[String: Any]] = [["type": "text", "text": "See?"], ["type": "image_url", "image_url": ["url": Self.png]]]
            // The simulator fails `sim-500` (a scenario by its name), so the call falls back.
            let reply = try await h.post(
                "/v1/chat/completions", token: h.alice, json: ["model": "sim-500", "messages": [["role": "user", "content": content]]])
            let conversation = try #require(reply.headers.first(name: "X-Sluice-Conversation-Id"), "\(reply.text)")
            let answer = try #require(try await h.store.messages(conversationID: conversation).last)
            #expect(answer.model == "sim", "the fallback that sees images answered, not text-only")
        }
    }

    @Test("Anthropic's Messages API (image blocks) and the Responses API (input_image parts) pass images on too")
    func otherWires() async throws {
        try await Harness.run { h in
            let anthropic = try await h.post(
                "/v1/messages", token: h.alice, asAPIKey: true, headers: ["X-Sluice-Scenario": "echo"],
                json: ["model": "sim", "max_tokens": 200, "messages": [["role": "user", "content": [
                    ["type": "image", "source": ["type": "base64", "media_type": "image/png", "data": TestImages.png3x2]],
                    ["type": "text", "text": "What?"],
                    ["type": "image", "source": ["type": "url", "url": Self.link]],
                ]]]])
            #expect(anthropic.status == 200, "\(anthropic.text)")
            let message = try #require(try JSONSerialization.jsonObject(with: Data(anthropic.text.utf8)) as? [String: Any])
            let text = ((message["content"] as? [[String: Any]])?.first?["text"] as? String) ?? ""
            #expect(text == "user: What?\n\(Self.seenPNG)\nimage: \(Self.link)\n")

            let responses = try await h.post(
                "/v1/responses", token: h.alice, headers: ["X-Sluice-Scenario": "echo"],
                json: ["model": "sim", "input": [["role": "user", "content": [
                    ["type": "input_text", "text": "What?"], ["type": "input_image", "image_url": Self.png, "detail": "low"],
                ]]]])
            #expect(responses.status == 200, "\(responses.text)")
            let response = try #require(try JSONSerialization.jsonObject(with: Data(responses.text.utf8)) as? [String: Any])
            #expect(ResponsesGatewayTests.outputText(response) == "user: What?\n\(Self.seenPNG) (detail low)\n")
            // What the answer was given lists the image as it was sent.
            let items = try await h.request(.GET, "/v1/responses/\(response["id"] as? String ?? "")/input_items", token: h.alice)
            let parts = ((items.json?["data"] as? [[String: Any]])?.first?["content"] as? [[String: Any]]) ?? []
            #expect(parts.map { $0["type"] as? String } == ["input_text", "input_image"])
            #expect(parts.last?["image_url"] as? String == Self.png && parts.last?["detail"] as? String == "low")

            // Their refusals name the block or part.
            let tiff = try await h.post(
                "/v1/messages", token: h.alice, asAPIKey: true,
                json: ["model": "sim", "max_tokens": 20, "messages": [["role": "user", "content": [
                    ["type": "image", "source": ["type": "base64", "media_type": "image/tiff", "data": TestImages.png3x2]],
                ]]]])
            #expect(tiff.status == 400 && tiff.text.contains("messages.0.content.0.source") && tiff.text.contains("image/webp"))
            let fileID = try await h.post(
                "/v1/responses", token: h.alice,
                json: ["model": "sim", "input": [["role": "user", "content": [["type": "input_image", "file_id": "file-123"]]]]])
            #expect(fileID.status == 400 && fileID.text.contains("input.0.content.0") && fileID.text.contains("file_id"))
        }
    }

    @Test("to an Anthropic upstream, images go as image blocks: base64 with the type the bytes say, or the link")
    func anthropicUpstream() async throws {
        try await Harness.run(anthropic: true) { h in
            // The data URL claims JPEG; the bytes are a GIF, and Anthropic checks that they match.
            let reply = try await h.post(
                "/v1/chat/completions", token: h.alice, headers: ["X-Sluice-Scenario": "echo"],
                json: ["model": "sim", "messages": [["role": "user", "content": [
                    ["type": "text", "text": "What?"],
                    ["type": "image_url", "image_url": ["url": TestImages.dataURL(TestImages.gif5x7, type: "image/jpeg")]],
                    ["type": "image_url", "image_url": ["url": Self.link]],
                ]]]])
            #expect(reply.status == 200, "\(reply.text)")
            let seenGIF = "image: image/gif \(TestImages.byteCount(TestImages.gif5x7)) bytes fnv1a \(TestImages.fnv1a(TestImages.gif5x7))"
            #expect(try Self.answerText(reply) == "user: What?\n\(seenGIF)\nimage: \(Self.link)\n")
        }
    }

    @Test("a photo of several megabytes goes through whole")
    func largeImage() async throws {
        // A real PNG header, then 6 MB of arbitrary bytes: Sluice reads only the header, the simulator hashes all.
        let bytes = Data(base64Encoded: TestImages.png3x2)!.prefix(33) + Data((0..<(6 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) })
        let base64 = bytes.base64EncodedString()
        try await Harness.run { h in
            let reply = try await h.post(
                "/v1/chat/completions", token: h.alice, headers: ["X-Sluice-Scenario": "echo"],
                json: ["model": "sim", "messages": [["role": "user", "content": [
                    ["type": "text", "text": "A photo"], ["type": "image_url", "image_url": ["url": TestImages.dataURL(base64)]],
                ]]]])
            #expect(reply.status == 200, "\(reply.text.prefix(300))")
            #expect(try Self.answerText(reply) == "user: A photo\nimage: image/png \(bytes.count) bytes fnv1a \(TestImages.fnv1a(base64))\n")
        }
    }

    @Test("a service that refuses images (llama-server without a vision projector) is a 400 that says so: not retried, not held against its circuit, handed to a fallback")
    func serviceRefusesImages() async throws {
        let breaker = CircuitBreaker(name: "sim", policy: CircuitBreakerPolicy(consecutiveFailures: 1, cooldown: .seconds(30)))
        let content: @Sendable () -> [[String: Any]] = { [["type": "text", "text": "See?"], ["type": "image_url", "image_url": ["url": Self.png]]] }
        try await Harness.run(breaker: breaker, listedModels: ["sim-blind"]) { h in
            let refused = try await h.post("/v1/chat/completions", token: h.alice, json: ["model": "sim-blind", "messages": [["role": "user", "content": content()]]])
            #expect(refused.status == 400, "\(refused.text)")
            #expect(refused.text.contains("images_unsupported") && refused.text.contains("image input is not supported"))
            #expect(h.sleeper.waits.isEmpty, "no retry")
            #expect(breaker.current == .closed)
            // The same model answers text.
            let text = try await h.post("/v1/chat/completions", token: h.alice, json: ["model": "sim-blind", "messages": [["role": "user", "content": "See?"]]])
            #expect(text.status == 200)
        }
        try await Harness.run(fallbacks: ["sim-blind": ["sim"]], listedModels: ["sim-blind"]) { h in
            let reply = try await h.post("/v1/chat/completions", token: h.alice, json: ["model": "sim-blind", "messages": [["role": "user", "content": content()]]])
            #expect(reply.status == 200, "\(reply.text)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(reply.text.utf8)) as? [String: Any])
            #expect(json["model"] as? String == "sim")
        }
    }
}
