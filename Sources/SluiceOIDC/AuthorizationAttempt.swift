import Crypto
import Foundation

/// One browser's trip to the provider and back: `state` ties the answer to the browser that left (a forged callback
/// has no matching cookie), `nonce` ties the ID token to it, and PKCE's `verifier` proves at the code exchange that
/// whoever trades the code started the trip. The three travel in a short-lived, HTTP-only cookie, so that any
/// instance of Sluice can finish what another began.
public struct AuthorizationAttempt: Sendable, Equatable {
    public let state: String
    public let nonce: String
    public let verifier: String
    /// The user who asked to connect their account at the provider to their own, when this attempt is for that. The
    /// cookie is the browser's to change: the server trusts this only with a record of its own under the state.
    public let connecting: String?

    public init(state: String, nonce: String, verifier: String, connecting: String? = nil) {
        self.state = state
        self.nonce = nonce
        self.verifier = verifier
        self.connecting = connecting
    }

    /// A new attempt: 256 random bits in each part.
    public static func new(connecting userID: String? = nil) -> AuthorizationAttempt {
        AuthorizationAttempt(state: randomPart(), nonce: randomPart(), verifier: randomPart(), connecting: userID)
    }

    /// PKCE's S256 challenge: the verifier's SHA-256, base64url without padding (RFC 7636).
    public var challenge: String { Base64URL.encode(Data(SHA256.hash(data: Data(verifier.utf8)))) }

    /// `state.nonce.verifier[.user]`: only base64url characters and dots, as a cookie's value may hold.
    public var cookieValue: String { "\(state).\(nonce).\(verifier)" + (connecting.map { ".\($0)" } ?? "") }

    /// The attempt a cookie holds; `nil` when it is not one.
    public init?(cookieValue: String) {
        let parts = cookieValue.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard (3...4).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.count <= 100 && Base64URL.isEncoded($0) })
        else { return nil }
        self.init(state: parts[0], nonce: parts[1], verifier: parts[2], connecting: parts.count == 4 ? parts[3] : nil)
    }

    private static func randomPart() -> String {
        var generator = SystemRandomNumberGenerator()
        return Base64URL.encode(Data((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }))
    }
}

/// Base64url without padding, as JWTs and PKCE write it.
enum Base64URL {
    static func encode(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func isEncoded(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII || $0 == "-" || $0 == "_" }
    }
}
