import Foundation
import SluiceCore
@testable import SluiceServer
import SluiceTestSupport
import Testing

/// Images in the web app's messages (`images` beside `content`): sent to the model, stored and shown with the
/// question, counted in the estimate, and refused with a reason the app shows.
@Suite("Images in the web app's messages")
struct WebImageTests {
    static let png = TestImages.dataURL(TestImages.png3x2)

    @Test("an image goes with the question (or is the question), is stored and shown with it, and is counted in the estimate",
          arguments: TestDatabases.backends)
    func sent(database: StoreBackend) async throws {
        try await Harness.run(database: database) { h in
            let conversation = try await h.newConversation(h.alice)
            let estimate = { (body: String) in
                try await h.request(.POST, "/api/conversations/\(conversation)/estimate", token: h.alice, body: body).json.flatMap { ($0["breakdown"] as? [String: Any])?["message"] as? Int }
            }
            let bare = try #require(try await estimate(#"{"content":"What is it?"}"#))
            #expect(try await estimate(#"{"content":"What is it?","images":[{"url":"\#(Self.png)"}]}"#) == bare + 255)

            // No words: the image is the question.
            let turn = try await h.send(conversation, token: h.alice, body: #"{"images":[{"url":"\#(Self.png)","detail":"low"}]}"#, scenario: "echo")
            #expect(turn.names.last == "done", "\(turn.body)")
            #expect(turn.text.contains(GatewayImageTests.seenPNG + " (detail low)"))
            let thread = try await h.request(.GET, "/api/conversations/\(conversation)", token: h.alice)
            #expect(thread.json?["title"] as? String == "An image")
            let question = try #require((thread.json?["messages"] as? [[String: Any]])?.first)
            let images = try #require(question["images"] as? [[String: Any]])
            let id = try #require(question["id"] as? String)
            // Named by address, not carried in the conversation's JSON; the bytes are the owner's to fetch.
            #expect(images.count == 1 && images[0]["url"] as? String == "/api/messages/\(id)/images/0" && images[0]["detail"] as? String == "low")
            #expect(images[0]["media_type"] as? String == "image/png" && images[0]["width"] as? Int == 3 && images[0]["height"] as? Int == 2)
            let fetched = try await h.bytes("/api/messages/\(id)/images/0", token: h.alice)
            #expect(fetched.status == 200 && fetched.contentType == "image/png")
            #expect(fetched.body == Array(Data(base64Encoded: TestImages.png3x2)!))
            #expect(try await h.bytes("/api/messages/\(id)/images/0", token: h.bob).status == 403)
            #expect(try await h.bytes("/api/messages/\(id)/images/1", token: h.alice).status == 404)

            // The next turn sends the earlier image again (it is part of the conversation).
            let next = try await h.send(conversation, token: h.alice, body: #"{"content":"And the colour?"}"#, scenario: "echo")
            #expect(next.text.contains("user: \n" + GatewayImageTests.seenPNG + " (detail low)\nassistant: "), "\(next.text)")
            #expect(next.text.hasSuffix("user: And the colour?\n"))
        }
    }

    @Test("refusals: too many, not an image, a model that does not see images (nothing stored)")
    func refusals() async throws {
        var catalog = ModelCatalog()
        catalog.setAcceptsImages("text-only", false)
        try await Harness.run(catalog: catalog, listedModels: ["text-only"]) { h in
            let conversation = try await h.newConversation(h.alice)
            let eleven = Array(repeating: #"{"url":"\#(Self.png)"}"#, count: 11).joined(separator: ",")
            let tooMany = try await h.request(.POST, "/api/conversations/\(conversation)/messages", token: h.alice, body: #"{"content":"x","images":[\#(eleven)]}"#)
            #expect(tooMany.status == 400 && tooMany.errorMessage?.contains("10 images at most") == true)
            let text = Data("words".utf8).base64EncodedString()
            let notImage = try await h.request(
                .POST, "/api/conversations/\(conversation)/messages", token: h.alice,
                body: #"{"content":"x","images":[{"url":"data:image/png;base64,\#(text)"}]}"#)
            #expect(notImage.status == 400 && notImage.errorMessage?.hasPrefix("Image 1 is not a PNG, JPEG, GIF or WebP image") == true)
            let blind = try await h.request(
                .POST, "/api/conversations/\(conversation)/messages", token: h.alice,
                body: #"{"content":"What is it?","model":"text-only","images":[{"url":"\#(Self.png)"}]}"#)
            #expect(blind.status == 400 && blind.errorCode == "images_unsupported")
            #expect(blind.errorMessage?.contains("'text-only' does not see images") == true)
            #expect(try await h.store.messages(conversationID: conversation).isEmpty)
            // A conversation that showed an image cannot go on, regenerated, with a model that does not see images.
            let seen = try await h.send(conversation, token: h.alice, body: #"{"content":"What is it?","images":[{"url":"\#(Self.png)"}]}"#)
            let answer = try #require(seen.assistantID)
            let regenerated = try await h.request(.POST, "/api/messages/\(answer)/regenerate", token: h.alice, body: #"{"model":"text-only"}"#)
            #expect(regenerated.status == 400 && regenerated.errorCode == "images_unsupported")
            #expect(try await h.store.messages(conversationID: conversation).count == 2, "no new version")
            // Without words or images there is nothing to ask.
            let empty = try await h.request(.POST, "/api/conversations/\(conversation)/messages", token: h.alice, body: #"{"content":" "}"#)
            #expect(empty.status == 400)
        }
    }
}
