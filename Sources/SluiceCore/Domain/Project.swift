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
        let now = Date.nowToTheMillisecond
        return Project(id: Identifier.make(), userID: userID, name: name, instructions: instructions, createdAt: now, updatedAt: now)
    }
}

/// A text file kept with a project (ChatGPT's project files): sent with every turn of each conversation in the project,
/// after the project's instructions, as a message's attachments are sent (`Attachment.blocks`).
public struct ProjectFile: Sendable, Equatable {
    public var id: String
    public var projectID: String
    public var name: String
    public var text: String
    public var createdAt: Date

    public init(id: String, projectID: String, name: String, text: String, createdAt: Date) {
        self.id = id
        self.projectID = projectID
        self.name = name
        self.text = text
        self.createdAt = createdAt
    }

    /// At most this many files in one project, and this many characters in them together (a message's files' limit).
    public static let maxCount = 20
    public static let maxCharacters = Attachment.maxCharacters
}

extension Project {
    /// What a turn of a conversation in the project sends of it, in its system prompt: the instructions, then each file
    /// in a `<file name="…">` block; `nil` when it has neither. Files longer together than `budget` characters are
    /// sent as excerpts chosen for `question` (and, less, the `earlier` one: `ProjectExcerpts`) from the files' `index`
    /// (a cached one, in a server); `sources` then names them.
    public static func prompt(
        instructions: String?, files: [ProjectFile], question: String? = nil, earlier: String? = nil, budget: Int? = nil,
        index: ([ProjectFile]) -> ProjectExcerpts.Index = ProjectExcerpts.Index.init
    ) -> (text: String?, sources: [ExcerptSource]) {
        var blocks: String?
        var sources: [ExcerptSource] = []
        if files.isEmpty {
            blocks = nil
        } else if let budget, files.reduce(0, { $0 + $1.text.count }) > budget {
            let excerpts = ProjectExcerpts.select(from: index(files), question: question, earlier: earlier, budget: budget)
            blocks = excerpts.blocks(of: files)
            sources = excerpts.sources(of: files)
        } else {
            blocks = Attachment.blocks(files.map { Attachment(name: $0.name, text: $0.text) })
        }
        let parts = [instructions, blocks].compactMap { $0 }.filter { !$0.isEmpty }
        return (parts.isEmpty ? nil : parts.joined(separator: "\n\n"), sources)
    }
}
