import Foundation

/// A text file attached to a user's message (a log, a source file, notes): kept beside the words the user typed,
/// not in them — the message's length limit is for what a person types, a file is as long as the context window
/// allows — and sent upstream in front of them (`Message.chatMessage`).
public struct Attachment: Sendable, Equatable, Codable {
    /// The file's name as the user's browser gave it.
    public var name: String
    public var text: String

    public init(name: String, text: String) {
        self.name = name
        self.text = text
    }

    /// At most this many files on one message.
    public static let maxCount = 10
    /// At most this many characters in one message's files together (about 100 000 tokens of English).
    public static let maxCharacters = 400_000

    /// The files and the words as one prompt: each file in a `<file name="…">` block, then the words. The name is
    /// quoted with `"` and `<`/`>` escaped, so that a name cannot close the block or open another.
    public static func prompt(_ attachments: [Attachment], then content: String) -> String {
        guard !attachments.isEmpty else { return content }
        return blocks(attachments) + "\n\n" + content
    }

    /// Each file in a `<file name="…">` block, a blank line between.
    public static func blocks(_ attachments: [Attachment]) -> String {
        attachments.map { "<file name=\"\(escaped($0.name))\">\n\($0.text)\n</file>" }.joined(separator: "\n\n")
    }

    /// A file's name as a block's `name="…"` carries it: `&`, `"`, `<` and `>` escaped.
    public static func escaped(_ name: String) -> String {
        name.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
