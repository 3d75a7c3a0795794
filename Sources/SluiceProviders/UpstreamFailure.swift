import AsyncHTTPClient
import Foundation
import NIOCore
import SluiceCore

/// How a failed upstream call is described, the same for every provider: OpenAI-compatible servers and Anthropic
/// both answer an error with `{"error": {"message": …, "type": …}}` (Anthropic adds a top-level `"type":
/// "error"`), and both are reached through AsyncHTTPClient.
enum UpstreamFailure {
    /// Maps AsyncHTTPClient and NIO errors to `ProviderError`; keeps ours and cancellation as they are.
    static func transport(_ error: any Error) -> any Error {
        switch error {
        case is ProviderError, is CancellationError: return error
        case let error as HTTPClientError where error == .cancelled: return CancellationError()
        default: return ProviderError.connection(String(describing: error))
        }
    }

    /// The message of an error response's body: the envelope's `message` (or `type`), else the body's first
    /// 500 bytes as text.
    static func message(from body: ByteBuffer?) -> String {
        guard let body, body.readableBytes > 0 else { return "" }
        let data = Data(body.readableBytesView)
        if let envelope = try? JSONDecoder().decode(ErrorEnvelope.self, from: data) {
            return envelope.error.message ?? envelope.error.type ?? ""
        }
        return String(decoding: data.prefix(500), as: UTF8.self)
    }
}

/// `{"error": {"message": ..., "type": ...}}`: an error response's body, and an error inside an OpenAI stream.
struct ErrorEnvelope: Decodable {
    struct Body: Decodable {
        let message: String?
        let type: String?
    }
    let error: Body
}
