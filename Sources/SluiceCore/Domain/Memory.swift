import Foundation

/// Something a user asked Sluice to remember across conversations (ChatGPT's saved memories, Open WebUI's Memory):
/// a short fact in the user's words — "I am vegetarian", "my team deploys on Fridays" — that goes with the system
/// prompt of every web conversation while the user keeps memory on (`MemoryPrompt`). Each user's memories are their
/// own; a temporary chat neither reads nor saves them.
public struct Memory: Sendable, Equatable {
    public var id: String
    public var userID: String
    public var content: String
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: String, userID: String, content: String, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.userID = userID
        self.content = content
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// A new memory of the user's, not yet stored: a fresh id, made now (to the millisecond, as the stores keep it).
    public static func saving(_ content: String, userID: String) -> Memory {
        let now = Date.nowToTheMillisecond
        return Memory(id: Identifier.make(), userID: userID, content: content, createdAt: now, updatedAt: now)
    }

    /// The most characters one memory may have: a fact, not a document (a project's files hold those).
    public static let maxContentLength = 1_000
    /// The most memories a user keeps; the next is refused until one is deleted ("memory full", as ChatGPT's).
    public static let maxCount = 200

    /// `text` as a memory: trimmed, its lines joined with spaces (each memory is one line of the prompt's list);
    /// `nil` when nothing is left.
    public static func content(_ text: String) -> String? {
        let joined = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " ")
        return joined.isEmpty ? nil : joined
    }
}

/// The newest of a user's memories that fit in a turn's prompt (`MemoryStore.promptMemories`), newest first, and
/// whether there are more than those (then `MemoryPrompt.text(_:budget:question:)` picks among all of them).
public struct PromptMemories: Sendable, Equatable {
    public var newest: [String]
    public var more: Bool

    public init(newest: [String], more: Bool) {
        self.newest = newest
        self.more = more
    }
}

/// What a web message's "Remember that …" or "Forget that …" did: told in its turn's `meta.memory`, and kept with
/// its answer (`Message.memory`) so that the conversation shows it again.
public struct MemoryNote: Sendable, Equatable, Codable {
    public enum Action: String, Sendable, Codable {
        /// `content` was kept as the memory `id`.
        case saved
        /// The user's memory held `Memory.maxCount` already: `content` was not kept.
        case full
        /// The memories in `forgotten` matched `content` and are gone.
        case forgotten
        /// No memory matched `content`: nothing was forgotten.
        case unmatched
    }

    public var action: Action
    /// The fact to remember, or the words of what to forget.
    public var content: String
    public var id: String?
    public var forgotten: [String]?

    public init(action: Action, content: String, id: String? = nil, forgotten: [String]? = nil) {
        self.action = action
        self.content = content
        self.id = id
        self.forgotten = forgotten
    }
}
