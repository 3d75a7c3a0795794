import Foundation
import SluiceCore

extension Migrations {
    /// Step 34: a user's message's text files (`Message.attachments`), as a JSON list; `NULL` without files.
    static let attachmentsStep = Step(version: 34, statements: ["ALTER TABLE messages ADD COLUMN attachments TEXT"])
}

extension StoredValues {
    /// `messages.attachments` (schema step 34): a JSON list, `NULL` without files.
    static func encode(_ attachments: [Attachment]) -> String? {
        attachments.isEmpty ? nil : (try? JSONEncoder().encode(attachments)).map { String(decoding: $0, as: UTF8.self) }
    }

    static func decodeAttachments(_ text: String?) -> [Attachment] {
        guard let text, !text.isEmpty else { return [] }
        return (try? JSONDecoder().decode([Attachment].self, from: Data(text.utf8))) ?? []
    }
}
