import Foundation

/// A chat thread owned by exactly one user.
public struct Conversation: Sendable, Equatable {
    public var id: String
    public var userID: String
    public var title: String
    /// The model new turns use unless a message names another.
    public var model: String
    public var systemPrompt: String?
    /// Who the caller says the conversation is for: the gateway's `user` field (OpenAI's "end user"), when a
    /// service sends many people's chats under one Sluice token; usage can be grouped by it. `nil` otherwise.
    public var endUser: String?
    public var createdAt: Date
    public var updatedAt: Date
    /// When the user pinned it to the top of their list; `nil` when it is not pinned.
    public var pinnedAt: Date?
    /// When the user archived it: out of their list (and read-only) until they unarchive it; `nil` when it is not.
    public var archivedAt: Date?
    /// The user's project it belongs to (`Project`); `nil` when it is in none.
    public var projectID: String?
    /// The conversation it was branched from ("Branch in new chat"); `nil` for one that is not a branch.
    public var branchedFrom: String?
    /// Its own sampling settings, used by its web turns; `nil` when it has none.
    public var parameters: ConversationParameters?
    /// Not stored: what its personalized system prompt was made of, when it carries a project
    /// (`personalized(by:projectPrompt:)`).
    public var personalization: Personalization?

    public init(
        id: String, userID: String, title: String, model: String, systemPrompt: String?, endUser: String? = nil,
        createdAt: Date, updatedAt: Date, pinnedAt: Date? = nil, archivedAt: Date? = nil, projectID: String? = nil,
        branchedFrom: String? = nil, parameters: ConversationParameters? = nil
    ) {
        self.parameters = parameters
        self.projectID = projectID
        self.branchedFrom = branchedFrom
        self.pinnedAt = pinnedAt
        self.archivedAt = archivedAt
        self.id = id
        self.userID = userID
        self.title = title
        self.model = model
        self.systemPrompt = systemPrompt
        self.endUser = endUser
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// A new conversation, not yet stored: a fresh id, created now (to the millisecond, as the stores keep it).
    public static func starting(
        userID: String, title: String, model: String, systemPrompt: String?, endUser: String? = nil
    ) -> Conversation {
        let now = Date.nowToTheMillisecond
        return Conversation(
            id: Identifier.make(), userID: userID, title: title, model: model, systemPrompt: systemPrompt,
            endUser: endUser, createdAt: now, updatedAt: now)
    }
}

/// A conversation found by a search (`ConversationStore.searchConversations`), with the message that has the most of
/// the terms (the first of those), when one has any (not only the title).
public struct ConversationMatch: Sendable, Equatable {
    public var conversation: Conversation
    public var message: String?

    public init(conversation: Conversation, message: String?) {
        self.conversation = conversation
        self.message = message
    }
}

extension Conversation {
    /// The conversation as the web app's turns send it: the user's instructions for all their conversations first
    /// (ChatGPT's custom instructions), then its project's (`Project.instructions`), then the conversation's own, a
    /// blank line between each — the general before the particular, so the conversation's words have the last say.
    /// Unchanged without instructions.
    public func personalized(by instructions: String?, project: String? = nil) -> Conversation {
        let layers = [instructions, project].compactMap { $0 }.filter { !$0.isEmpty }
        guard !layers.isEmpty else { return self }
        let instructions = layers.joined(separator: "\n\n")
        var copy = self
        copy.systemPrompt = systemPrompt.map { instructions + "\n\n" + $0 } ?? instructions
        return copy
    }
}
