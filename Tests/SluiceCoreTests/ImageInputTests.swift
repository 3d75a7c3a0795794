import Foundation
import SluiceCore
import SluiceTestSupport
import Testing

/// Images in messages: what Sluice reads of them (type and size, from real files' headers), what it refuses, and its
/// token estimate (OpenAI's published examples).
@Suite("Image inputs")
struct ImageInputTests {
    @Test("the type and size come from the bytes of real PNG, JPEG, GIF and WebP files", arguments: [
        (TestImages.png3x2, "image/png", 3, 2), (TestImages.jpeg40x30, "image/jpeg", 40, 30),
        (TestImages.progressiveJPEG64x48, "image/jpeg", 64, 48), (TestImages.gif5x7, "image/gif", 5, 7),
        (TestImages.webpLossy9x4, "image/webp", 9, 4), (TestImages.webpLossless6x11, "image/webp", 6, 11),
        (TestImages.webpExtended17x13, "image/webp", 17, 13),
    ])
    func header(base64: String, type: String, width: Int, height: Int) throws {
        // The prefix's claim does not matter: the bytes say what the image is.
        let image = try ImageInput.parse(url: TestImages.dataURL(base64, type: "image/png"), detail: "high")
        #expect(image.mediaType == type && image.width == width && image.height == height)
        #expect(image.detail == .high)
        #expect(image.base64Payload.map(String.init) == base64)
    }

    @Test("what is not an image, or not one Sluice can pass on, is refused with a reason")
    func badImages() {
        let text = Data("just some text, no image at all".utf8).base64EncodedString()
        let cases: [(String, String?, ImageInputError)] = [
            (TestImages.dataURL(text), nil, .unknownFormat),
            // Cut off inside the PNG header: no size to read.
            (TestImages.dataURL(String(TestImages.png3x2.prefix(16))), nil, .unknownFormat),
            ("data:image/png," + TestImages.png3x2, nil, .notBase64),
            ("data:image/png;base64,!!!", nil, .notBase64),
            ("ftp://example.com/cat.png", nil, .notAnImageURL),
            ("cat.png", nil, .notAnImageURL),
            ("https://", nil, .badLink),
            (TestImages.dataURL(TestImages.png3x2), "ultra", .badDetail("ultra")),
        ]
        for (url, detail, expected) in cases {
            #expect(throws: expected, "\(url.prefix(40))") { try ImageInput.parse(url: url, detail: detail) }
        }
        #expect(ImageInputError.badDetail("ultra").description.contains("auto, low or high"))
    }

    @Test("a link is passed on as it is, its size unknown")
    func link() throws {
        let image = try ImageInput.parse(url: "https://example.com/cat.png?size=large", detail: "low")
        #expect(image.url == "https://example.com/cat.png?size=large" && image.mediaType == nil && image.width == nil)
        #expect(image.base64Payload == nil)
    }

    @Test("the token estimate follows OpenAI's published examples", arguments: [
        // (width, height, detail, tokens): OpenAI's vision guide works 1024 × 1024 high (765) and 2048 × 4096 high
        // (1105); low is always 85; a small image is one tile.
        (1024, 1024, ImageInput.Detail.high, 765), (2048, 4096, .high, 1105), (4096, 8192, .high, 1105),
        (4096, 4096, .low, 85), (3, 2, .high, 255), (800, 600, nil, 765), (512, 512, .auto, 255),
    ])
    func estimate(width: Int, height: Int, detail: ImageInput.Detail?, tokens: Int) {
        #expect(ImageInput(url: "data:", detail: detail, mediaType: "image/png", width: width, height: height).estimatedTokens == tokens)
    }

    @Test("a link of unknown size is estimated as 1024 × 1024; messages add up their images")
    func unknownSize() {
        let link = ImageInput(url: "https://example.com/a.png")
        #expect(link.estimatedTokens == 765)
        let messages = [
            ChatMessage(role: .user, content: "two", images: [link, ImageInput(url: "https://example.com/b.png", detail: .low)]),
            ChatMessage(role: .assistant, content: "none"),
        ]
        #expect(messages.imageTokens == 765 + 85)
    }

    @Test("an upstream's refusal of images is told from its other failures")
    func refusals() {
        // llama-server without a vision projector; OpenAI's text models; vLLM serving a text model.
        #expect(ProviderError.http(status: 500, message: "image input is not supported - hint: if this is unexpected, you may need to provide the mmproj", retryAfter: nil).refusesImages)
        #expect(ProviderError.http(status: 400, message: "Invalid content type. image_url is only supported by certain models.", retryAfter: nil).refusesImages)
        #expect(ProviderError.http(status: 400, message: "Qwen2-7B is not a multimodal model", retryAfter: nil).refusesImages)
        #expect(!ProviderError.http(status: 500, message: "The server had an error while processing your request.", retryAfter: nil).refusesImages)
        #expect(!ProviderError.http(status: 429, message: "image input is not supported", retryAfter: nil).refusesImages)
        #expect(!ProviderError.upstreamError(message: "image input is not supported").refusesImages)
    }
}
