import SluiceCore

/// The `attachments` field of a web message (and of its estimate): the text files the user attached, checked one by
/// one so that each mistake gets its own message.
enum AttachmentsField {
    /// A message with files: up to `Attachment.maxCharacters` of text, 4 bytes a character at most, and the JSON around it.
    static let maxBodyBytes = Attachment.maxCharacters * 4 + 256 * 1024

    /// `attachments`: `[{"name": "notes.txt", "text": "…"}]`, each a text file the user attached; checked one by one,
    /// so each mistake gets its own message.
    static func parse(_ body: JSONObjectBody) throws -> [Attachment] {
        let items: [JSONValue]
        switch body.fields["attachments"] {
        case nil, .null?: return []
        case .array(let list)?: items = list
        default: throw APIError.invalid("'attachments' must be a list of files, each {\"name\": \"notes.txt\", \"text\": \"…\"}.")
        }
        guard items.count <= Attachment.maxCount else {
            throw APIError.invalid("A message may carry \(Attachment.maxCount) files at most; this one has \(items.count).")
        }
        let files = try items.enumerated().map { index, item in
            guard case .object(let members) = item,
                case .string(let name)? = members.last(where: { $0.key == "name" })?.value,
                case .string(let text)? = members.last(where: { $0.key == "text" })?.value
            else {
                throw APIError.invalid("'attachments[\(index)]' must be {\"name\": \"notes.txt\", \"text\": \"…\"}, both text.")
            }
            let trimmedName = name.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmedName.isEmpty, trimmedName.count <= 255 else {
                throw APIError.invalid("'attachments[\(index)].name' must be a file name of 1 to 255 characters.")
            }
            guard !text.contains("\u{0}") else {
                throw APIError.invalid("The file \(JSONText.quote(trimmedName)) is not text (it holds NUL bytes); attach text files only: notes, code, logs, CSV, JSON.")
            }
            return Attachment(name: trimmedName, text: text)
        }
        let characters = files.reduce(0) { $0 + $1.text.count }
        guard characters <= Attachment.maxCharacters else {
            throw APIError(
                .contentTooLarge, code: "attachments_too_large",
                message: "The attached files have \(characters) characters together; the most is \(Attachment.maxCharacters). Attach less, or only the part you are asking about.")
        }
        return files
    }
}
