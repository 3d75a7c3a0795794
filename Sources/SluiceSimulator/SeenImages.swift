import Foundation

/// What the simulator makes of an image in a request: its description for the `echo` scenario — for a data URL its
/// media type, decoded size and an FNV-1a hash of its bytes (so a test can see the image arrived intact), for a
/// link the link — and a fixed prompt cost of `tokensPerImage`, which a real provider also reports on its own.
public enum SeenImages {
    /// Prompt tokens the simulator reports for each image (not Sluice's estimate, so that a test tells them apart).
    public static let tokensPerImage = 100

    /// `image: image/png 68 bytes fnv1a 0123456789abcdef (detail high)` or `image: https://…`.
    static func describe(mediaType: String?, base64: Substring?, url: String?, detail: String?) -> String {
        let suffix = detail.map { " (detail \($0))" } ?? ""
        if let base64 {
            guard let bytes = Data(base64Encoded: String(base64), options: .ignoreUnknownCharacters) else {
                return "image: undecodable base64\(suffix)"
            }
            return "image: \(mediaType ?? "?") \(bytes.count) bytes fnv1a \(fnv1a(bytes))\(suffix)"
        }
        return "image: \(url ?? "?")\(suffix)"
    }

    /// An OpenAI `image_url` URL described: a data URL's media type is what its prefix says.
    static func describe(url: String, detail: String?) -> String {
        guard url.hasPrefix("data:"), let comma = url.firstIndex(of: ",") else {
            return describe(mediaType: nil, base64: nil, url: url, detail: detail)
        }
        let header = url[url.index(url.startIndex, offsetBy: 5)..<comma]
        let mediaType = header.split(separator: ";").first.map(String.init)
        return describe(mediaType: mediaType, base64: url[url.index(after: comma)...], url: nil, detail: detail)
    }

    /// FNV-1a, 64 bits, as 16 hex digits.
    static func fnv1a(_ bytes: Data) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
