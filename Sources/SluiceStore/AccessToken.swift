import Crypto
import Foundation
import SluiceCore

/// Bearer tokens: random, shown once, stored only as a SHA-256 hash.
public enum AccessToken {
    /// A new token: `sluice_` and 32 random bytes in URL-safe base64.
    public static func generate() -> String {
        "sluice_" + randomSecret()
    }

    /// 32 random bytes (256 bits) in URL-safe base64 without padding: 43 characters. A token's secret part, and a
    /// shared link's whole token.
    public static func randomSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The hex SHA-256 of a token, which is what the store keeps.
    public static func hash(_ token: String) -> String {
        HexDigits.lowercase(SHA256.hash(data: Data(token.utf8)))
    }
}
