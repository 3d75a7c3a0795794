import Foundation

/// A prompt the user keeps to reuse (Open WebUI's and LibreChat's prompt library): typing `/` and its command in the
/// message box puts its text there, its `{{placeholders}}` to fill in. Each user's commands are their own and unique.
public struct SavedPrompt: Sendable, Equatable {
    public var id: String
    public var userID: String
    /// What follows `/` in the message box: lower-case letters, digits, `-` and `_` (`SavedPrompt.command(_:)`).
    public var command: String
    public var title: String
    public var content: String
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: String, userID: String, command: String, title: String, content: String, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.userID = userID
        self.command = command
        self.title = title
        self.content = content
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The most characters a command, a title and a text may have.
    public static let maxCommandLength = 50
    public static let maxTitleLength = 100
    public static let maxContentLength = 32_000

    /// `text` as a command: without a leading `/`, in lower case; `nil` unless it is 1 to `maxCommandLength` letters
    /// (a–z), digits, `-` or `_`, starting with a letter or digit.
    public static func command(_ text: String) -> String? {
        var command = text.trimmingCharacters(in: .whitespaces).lowercased()
        if command.hasPrefix("/") { command.removeFirst() }
        guard (1...maxCommandLength).contains(command.count), let first = command.unicodeScalars.first,
            Self.leading.contains(first), command.unicodeScalars.allSatisfy(Self.allowed.contains)
        else { return nil }
        return command
    }

    private static let leading = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyz0123456789")
    private static let allowed = leading.union(CharacterSet(charactersIn: "-_"))
}
