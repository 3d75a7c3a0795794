import Foundation
import SluiceCore

extension Migrations {
    /// Step 34: a user's message's text files (`Message.attachments`), as a JSON list; `NULL` without files.
    static let attachmentsStep = Step(version: 34, statements: ["ALTER TABLE messages ADD COLUMN attachments TEXT"])
}

extension StoredValues {
    /// `messages.attachments` (schema step 34): a JSON list, `NULL` without files.
    static func encode(_ attachments: [Attachment]) -> String? { encodeList(attachments) }
    static func decodeAttachments(_ text: String?) -> [Attachment] { decodeList(text) }
}
