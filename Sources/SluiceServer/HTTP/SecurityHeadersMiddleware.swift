import HTTPTypes
import Hummingbird

/// Headers that keep the web app safe even if something slipped past its sanitiser: every response says
/// `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer`; an HTML page also carries a Content Security
/// Policy that lets it run only Sluice's own scripts, talk only to Sluice, and show only Sluice's own images (and
/// `data:`/`blob:` ones) — so model output cannot make the browser load a remote image whose address carries the
/// conversation away (the "Markdown image" exfiltration of a prompt injection) — and may not be framed.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    static var contentSecurityPolicy: String {
        [
            "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data: blob:",
            "font-src 'self' data:", "connect-src 'self' blob: data:", "media-src 'self' blob:", "object-src 'none'", "base-uri 'none'",
            "form-action 'self'", "frame-ancestors 'none'",
        ].joined(separator: "; ")
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var response = try await next(request, context)
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[Self.referrerPolicy] = "no-referrer"
        if response.headers[.contentType]?.hasPrefix("text/html") == true {
            response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
            response.headers[Self.frameOptions] = "DENY"
        }
        return response
    }

    static var referrerPolicy: HTTPField.Name { HTTPField.Name("Referrer-Policy")! }
    static var frameOptions: HTTPField.Name { HTTPField.Name("X-Frame-Options")! }
}
