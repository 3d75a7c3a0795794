import Foundation
import Hummingbird
import HummingbirdTesting
@testable import SluiceServer
import Testing

/// Every error a client sees is the JSON envelope with a code and a sentence, however it was thrown.
@Suite("Error envelope")
struct ErrorEnvelopeTests {
    struct Fault: Error, CustomStringConvertible {
        var description: String { "SQLite error 1: no such column: secret_column" }
    }

    static func app() -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: ErrorEnvelopeMiddleware())
        router.get("fault") { _, _ -> Response in throw Fault() }
        router.get("refused") { _, _ -> Response in throw APIError.invalid("'limit' must be a number.") }
        router.get("hummingbird") { _, _ -> Response in throw HTTPError(.contentTooLarge) }
        return Application(router: router)
    }

    static func error(_ body: ByteBuffer) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]
        return try #require(object?["error"] as? [String: Any])
    }

    @Test("a fault no one meant to answer with is a 500 internal_error that says what to do and keeps the details for the log")
    func envelope() async throws {
        try await Self.app().test(.router) { client in
            try await client.execute(uri: "/fault", method: .get) { response in
                #expect(response.status == .internalServerError)
                let error = try Self.error(response.body)
                #expect(error["code"] as? String == "internal_error")
                let message = try #require(error["message"] as? String)
                #expect(message.contains("Try again") && !message.contains("secret_column"))
            }
            try await client.execute(uri: "/refused", method: .get) { response in
                let error = try Self.error(response.body)
                #expect(response.status == .badRequest && error["code"] as? String == "invalid_request")
            }
            try await client.execute(uri: "/hummingbird", method: .get) { response in
                let error = try Self.error(response.body)
                #expect(response.status == .contentTooLarge && error["code"] as? String == "too_large")
            }
        }
    }
}
