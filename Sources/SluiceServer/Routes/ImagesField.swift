import SluiceCore

/// The `images` field of a web message: the pictures the user attached (the web app's 📎, a drop or a paste), each
/// `{"url": "data:image/png;base64,…", "detail": "auto"}`, checked one by one so that each mistake gets its own
/// message. They go to a model that sees images (`TurnLauncher.checkSeesImages` refuses one known not to).
enum ImagesField {
    /// At most this many images on one message (ChatGPT's limit per message too).
    static let maxCount = 10
    /// A message with images: up to 10 of them, as base64, plus what `AttachmentsField` allows.
    static let maxBodyBytes = 32 << 20

    static func parse(_ body: JSONObjectBody) throws -> [ImageInput] {
        let items: [JSONValue]
        switch body.fields["images"] {
        case nil, .null?: return []
        case .array(let list)?: items = list
        default: throw APIError.invalid("'images' must be a list of images, each {\"url\": \"data:image/png;base64,…\"}.")
        }
        guard items.count <= maxCount else {
            throw APIError.invalid("A message may show \(maxCount) images at most; this one has \(items.count).")
        }
        return try items.enumerated().map { index, item in
            guard case .string(let url)? = item["url"] else {
                throw APIError.invalid("'images[\(index)]' must be {\"url\": \"data:image/png;base64,…\"}.")
            }
            var detail: String?
            if case .string(let level)? = item["detail"] { detail = level }
            do {
                return try ImageInput.parse(url: url, detail: detail)
            } catch {
                throw APIError.invalid("Image \(index + 1) \(error).")
            }
        }
    }
}
