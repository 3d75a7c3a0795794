import Foundation

/// An image in a user's message — OpenAI's `image_url` part, Anthropic's `image` block, the Responses API's
/// `input_image` — passed on to a model that sees images. Sluice reads no more of it than its header (its type and
/// size in pixels, for the token estimate); a link is passed on as it is, for the upstream to fetch.
public struct ImageInput: Sendable, Equatable, Hashable, Codable {
    /// How closely the model looks (OpenAI's `detail`): `low` is one fixed-cost glance, `high` reads it in tiles.
    public enum Detail: String, Sendable, Codable, CaseIterable {
        case auto, low, high
    }

    /// `data:image/png;base64,…` (or JPEG, GIF, WebP), or an `http(s)://` link.
    public var url: String
    /// `nil` as the caller sent none (the upstream's default, `auto`).
    public var detail: Detail?
    /// Read from a data URL's bytes (not from what its prefix claims); `nil` for a link.
    public var mediaType: String?
    public var width: Int?
    public var height: Int?

    /// The types every model that sees images accepts (OpenAI's, Anthropic's and llama.cpp's lists agree on these).
    public static let mediaTypes = ["image/png", "image/jpeg", "image/gif", "image/webp"]
    /// The largest image Sluice passes on, decoded: OpenAI's limit per image (Anthropic's is 5 MB).
    public static let maxBytes = 20 * 1024 * 1024
    /// The most images one call may show (Anthropic's limit per request; OpenAI's is higher).
    public static let maxPerCall = 100

    public init(url: String, detail: Detail? = nil, mediaType: String? = nil, width: Int? = nil, height: Int? = nil) {
        self.url = url
        self.detail = detail
        self.mediaType = mediaType
        self.width = width
        self.height = height
    }

    /// Checks an image as a caller sent it: a data URL must hold a PNG, JPEG, GIF or WebP image (its header is read
    /// for the type and size); a link must be `http` or `https`. `detail` is `auto`, `low` or `high`.
    public static func parse(url: String, detail: String?) throws(ImageInputError) -> ImageInput {
        let level: Detail?
        if let detail {
            guard let known = Detail(rawValue: detail) else { throw .badDetail(detail) }
            level = known
        } else {
            level = nil
        }
        if url.hasPrefix("https://") || url.hasPrefix("http://") {
            guard URL(string: url)?.host?.isEmpty == false else { throw .badLink }
            return ImageInput(url: url, detail: level)
        }
        guard url.hasPrefix("data:") else { throw .notAnImageURL }
        guard let comma = url.firstIndex(of: ","), url[..<comma].hasSuffix(";base64") else { throw .notBase64 }
        let payload = url[url.index(after: comma)...]
        guard payload.utf8.count <= (maxBytes / 3 + 1) * 4 else { throw .tooLarge }
        guard let bytes = Data(base64Encoded: String(payload), options: .ignoreUnknownCharacters), !bytes.isEmpty else {
            throw .notBase64
        }
        guard let header = ImageHeader.read(bytes) else { throw .unknownFormat }
        return ImageInput(url: url, detail: level, mediaType: header.mediaType, width: header.width, height: header.height)
    }

    /// A data URL's base64 text (what Anthropic's `source.data` takes); `nil` for a link.
    public var base64Payload: Substring? {
        guard url.hasPrefix("data:"), let comma = url.firstIndex(of: ",") else { return nil }
        return url[url.index(after: comma)...]
    }

    /// About how many prompt tokens the image costs, by OpenAI's published rule for its vision models: 85 for a
    /// `low` look; otherwise the image is scaled down to fit 2048 × 2048, then until its shorter side is at most 768,
    /// and costs 85 plus 170 per 512-pixel tile. A link (size unknown) is taken as 1024 × 1024 (765 tokens).
    /// Anthropic counts about width × height / 750; the provider's own count settles the turn.
    public var estimatedTokens: Int {
        if detail == .low { return 85 }
        var w = Double(width ?? 1024)
        var h = Double(height ?? 1024)
        guard w > 0, h > 0 else { return 85 }
        let fit = min(1, 2048 / max(w, h))
        w *= fit
        h *= fit
        let shorten = min(1, 768 / min(w, h))
        w *= shorten
        h *= shorten
        let tiles = Int((w / 512).rounded(.up)) * Int((h / 512).rounded(.up))
        return 85 + 170 * tiles
    }
}

/// Why an image was refused, in words for the caller.
public enum ImageInputError: Error, Equatable, CustomStringConvertible {
    case notAnImageURL, notBase64, unknownFormat, tooLarge, badLink
    case badDetail(String)

    public var description: String {
        switch self {
        case .notAnImageURL:
            return "is neither a data URL (data:image/png;base64,…) nor an http(s) link"
        case .notBase64:
            return "is a data URL without base64 data; send data:image/png;base64,… (or jpeg, gif, webp)"
        case .unknownFormat:
            return "is not a PNG, JPEG, GIF or WebP image (its bytes say otherwise); convert it to one of those"
        case .tooLarge:
            return "is over 20 MB; send a smaller image"
        case .badLink:
            return "is not a valid link"
        case .badDetail(let detail):
            return "has detail '\(detail)'; use auto, low or high"
        }
    }
}

/// The type and size of an image, from its first bytes (PNG, JPEG, GIF, WebP).
public enum ImageHeader {
    public static func read(_ data: Data) -> (mediaType: String, width: Int, height: Int)? {
        let b = [UInt8](data.prefix(512 * 1024))
        func be16(_ i: Int) -> Int { i + 1 < b.count ? Int(b[i]) << 8 | Int(b[i + 1]) : -1 }
        func le16(_ i: Int) -> Int { i + 1 < b.count ? Int(b[i + 1]) << 8 | Int(b[i]) : -1 }
        func le24(_ i: Int) -> Int { i + 2 < b.count ? Int(b[i + 2]) << 16 | Int(b[i + 1]) << 8 | Int(b[i]) : -1 }
        func be32(_ i: Int) -> Int { i + 3 < b.count ? be16(i) << 16 | be16(i + 2) : -1 }
        func ascii(_ i: Int, _ text: String) -> Bool { Array(text.utf8).elementsEqual(b.dropFirst(i).prefix(text.utf8.count)) }
        func sized(_ type: String, _ w: Int, _ h: Int) -> (String, Int, Int)? { w > 0 && h > 0 ? (type, w, h) : nil }

        if b.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), ascii(12, "IHDR") {
            return sized("image/png", be32(16), be32(20))
        }
        if ascii(0, "GIF87a") || ascii(0, "GIF89a") {
            return sized("image/gif", le16(6), le16(8))
        }
        if ascii(0, "RIFF"), ascii(8, "WEBP") {
            if ascii(12, "VP8 ") { return sized("image/webp", le16(26) & 0x3FFF, le16(28) & 0x3FFF) }
            if ascii(12, "VP8L"), b.count > 24 {
                let bits = Int(b[21]) | Int(b[22]) << 8 | Int(b[23]) << 16 | Int(b[24]) << 24
                return sized("image/webp", (bits & 0x3FFF) + 1, (bits >> 14 & 0x3FFF) + 1)
            }
            if ascii(12, "VP8X") { return sized("image/webp", le24(24) + 1, le24(27) + 1) }
            return nil
        }
        if b.starts(with: [0xFF, 0xD8]) {
            // The segments up to the first start-of-frame, which holds the size.
            var i = 2
            while i + 3 < b.count {
                guard b[i] == 0xFF else { return nil }
                let marker = b[i + 1]
                if marker == 0xFF { i += 1; continue }  // fill byte
                if marker == 0xD8 || marker == 0x01 || (0xD0...0xD7).contains(marker) { i += 2; continue }
                let length = be16(i + 2)
                guard length >= 2 else { return nil }
                if (0xC0...0xCF).contains(marker), ![0xC4, 0xC8, 0xCC].contains(marker) {
                    return sized("image/jpeg", be16(i + 7), be16(i + 5))
                }
                i += 2 + length
            }
            return nil
        }
        return nil
    }
}

extension Sequence where Element == ChatMessage {
    /// The estimated prompt tokens of every image in these messages (`ImageInput.estimatedTokens`), which a
    /// `PromptCounter` adds to the text's.
    public var imageTokens: Int { reduce(0) { total, message in message.images.reduce(total) { $0 + $1.estimatedTokens } } }
}
