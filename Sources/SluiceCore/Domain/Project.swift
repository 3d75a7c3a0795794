import Foundation

/// A user's project (ChatGPT's Projects, Open WebUI's folders): a named group of conversations with instructions of
/// its own, sent with every turn of each conversation in it — after the user's instructions for all conversations and
/// before the conversation's own system prompt. Deleting a project keeps its conversations, out of any project.
public struct Project: Sendable, Equatable {
    public var id: String
    public var userID: String
    public var name: String
    public var instructions: String?
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: String, userID: String, name: String, instructions: String?, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.userID = userID
        self.name = name
        self.instructions = instructions
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// A new project, not yet stored: a fresh id, made now (to the millisecond, as the stores keep it).
    public static func starting(userID: String, name: String, instructions: String?) -> Project {
        let now = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded(.down) / 1000)
        return Project(id: Identifier.make(), userID: userID, name: name, instructions: instructions, createdAt: now, updatedAt: now)
    }
}
