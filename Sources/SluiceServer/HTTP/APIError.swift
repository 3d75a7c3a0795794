import Foundation
import SluiceCore
import Hummingbird
import NIOCore

/// An error answered as `{"error": {"code", "message"}}` with a message a person understands.
public struct APIError: HTTPResponseError, Equatable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var headers: HTTPFields = [:]
    /// More members of the error object, as JSON text without braces (e.g. `"budget":{...}`).
    public var details: String?
    /// Answered as Anthropic's API shapes errors (`/v1/messages`): `{"type": "error", "error": {"type", "message", …}}`,
    /// with Anthropic's names for the error types.
    public var anthropicShape = false

    public init(_ status: HTTPResponse.Status, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        // `type` as OpenAI names its error classes, so OpenAI SDKs (the `/v1` gateway's clients) read these too.
        var body = String(JSONText.errorBody(code: code, message: message).dropLast(2)) + ",\"type\":\"\(Self.type(of: status))\"}}"
        if anthropicShape {
            body = "{\"type\":\"error\",\"error\":{\"type\":\"\(AnthropicWire.errorType(Int(status.code)))\","
                + "\"message\":\(JSONText.quote(message)),\"code\":\(JSONText.quote(code))}}"
        }
        if let details { body = String(body.dropLast(2)) + "," + details + "}}" }
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// OpenAI's error `type` for an HTTP status.
    static func type(of status: HTTPResponse.Status) -> String {
        switch status.code {
        case 400, 413, 422: "invalid_request_error"
        case 401: "authentication_error"
        case 403: "permission_error"
        case 404: "not_found_error"
        case 429: "rate_limit_error"
        default: status.code >= 500 ? "api_error" : "invalid_request_error"
        }
    }

    static let unauthorized = APIError(
        .unauthorized, code: "unauthorized",
        message: "Sign in with a valid token: send 'Authorization: Bearer <token>' (create one with 'sluice user add NAME').")
    static let forbidden = APIError(
        .forbidden, code: "forbidden", message: "This belongs to another user, so you cannot see or change it.")

    static func notFound(_ what: String) -> APIError {
        APIError(.notFound, code: "not_found", message: "No \(what) with that id exists. It may have been deleted.")
    }

    /// A fault on Sluice's side, whose details are in the server's log (`ErrorEnvelopeMiddleware`).
    static let internalError = APIError(
        .internalServerError, code: "internal_error",
        message: "Sluice failed on its side and did not finish this request. Try again; if it happens again, tell the "
            + "operator: the server's log says what went wrong.")

    static func invalid(_ message: String) -> APIError {
        APIError(.badRequest, code: "invalid_request", message: message)
    }
}

/// Turns errors that are not `APIError` (Hummingbird's own, such as an oversized body) into the same JSON shape; an
/// error no one meant to answer with (a statement the database refused, a fault in Sluice) is logged whole for the
/// operator and answered `500 internal_error` without its details.
struct ErrorEnvelopeMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Counts each error answer by its code (`sluice_api_errors_total`).
    var metrics: SluiceMetrics?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch {
            if let answer = Self.apiError(error) {
                metrics?.answeredWithError(code: answer.code)
                throw answer
            }
            // Hummingbird's own answers, and a client gone away, stay as they are.
            if error is any HTTPResponseError || error is CancellationError { throw error }
            context.logger.error(
                "Request failed", metadata: ["error": "\(String(reflecting: error))", "path": "\(request.uri.path)"])
            metrics?.answeredWithError(code: APIError.internalError.code)
            throw APIError.internalError
        }
    }

    /// The `APIError` a failure is answered with, or `nil` for one Hummingbird answers itself.
    static func apiError(_ error: any Error) -> APIError? {
        switch error {
        case let error as APIError: error
        case let error as HTTPError: APIError.from(error)
        case is NIOTooManyBytesError: APIError.from(HTTPError(.contentTooLarge))
        case StoreError.unavailable:
            APIError(
                .serviceUnavailable, code: "database_unavailable",
                message: "Sluice cannot reach its database right now, so nothing was done. Try again in a moment; if it lasts, tell the operator.")
        default: nil
        }
    }
}

extension APIError {
    static func from(_ error: HTTPError) -> APIError {
        switch error.status {
        case .contentTooLarge:
            APIError(.contentTooLarge, code: "too_large", message: "The request body is over 64 KiB. Send a shorter message.")
        case .notFound:
            APIError(.notFound, code: "not_found", message: "There is nothing at this address.")
        case .methodNotAllowed:
            APIError(.methodNotAllowed, code: "method_not_allowed", message: "This address does not accept that method.")
        default:
            APIError(error.status, code: "http_\(error.status.code)", message: error.body ?? error.status.reasonPhrase)
        }
    }
}

extension JSONText {
    static func errorBody(code: String, message: String) -> String {
        "{\"error\":{\"code\":\(quote(code)),\"message\":\(quote(message))}}"
    }
}
