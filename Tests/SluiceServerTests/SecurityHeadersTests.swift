import Hummingbird
import HummingbirdTesting
@testable import SluiceServer
import Testing

/// The headers every answer carries, and the Content Security Policy of an HTML page.
@Suite("Security headers")
struct SecurityHeadersTests {
    static func app() -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: SecurityHeadersMiddleware())
        router.get("page") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "<p>hi</p>")))
        }
        router.get("data") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}")))
        }
        return Application(router: router)
    }

    @Test("an HTML page may run only Sluice's scripts, load only its own (or data:/blob:) images, talk only to Sluice, and not be framed; every answer is nosniff, no-referrer")
    func headers() async throws {
        try await Self.app().test(.router) { client in
            try await client.execute(uri: "/page", method: .get) { response in
                let policy = try #require(response.headers[.contentSecurityPolicy])
                let directives = Dictionary(
                    uniqueKeysWithValues: policy.split(separator: ";").map { part -> (String, String) in
                        let words = part.split(separator: " ", maxSplits: 1).map(String.init)
                        return (words[0], words.count > 1 ? words[1] : "")
                    })
                #expect(directives["script-src"] == "'self'", "no inline script, no eval, nothing from elsewhere")
                #expect(directives["img-src"] == "'self' data: blob:", "no remote image: model output cannot send data away in an image's address")
                #expect(directives["connect-src"] == "'self' blob: data:", "the page's own image copies, nothing elsewhere")
                #expect(directives["frame-ancestors"] == "'none'" && directives["object-src"] == "'none'")
                #expect(response.headers[SecurityHeadersMiddleware<BasicRequestContext>.frameOptions] == "DENY")
                #expect(response.headers[.xContentTypeOptions] == "nosniff")
            }
            try await client.execute(uri: "/data", method: .get) { response in
                #expect(response.headers[.xContentTypeOptions] == "nosniff")
                #expect(response.headers[SecurityHeadersMiddleware<BasicRequestContext>.referrerPolicy] == "no-referrer")
                #expect(response.headers[.contentSecurityPolicy] == nil, "a JSON answer is not a page")
            }
        }
    }
}
