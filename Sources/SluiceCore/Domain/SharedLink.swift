import Foundation

/// A conversation shared by link (ChatGPT's and Open WebUI's "Share"): a copy of its thread as it was when shared,
/// which anyone with the link's token may read, until its owner stops sharing it or deletes the conversation.
/// Messages sent after the copy was made are not in it; sharing again replaces the copy and keeps the link.
public struct SharedLink: Sendable, Equatable {
    /// The link's secret: `/share/{token}`.
    public let token: String
    public let conversationID: String
    /// The copy, as JSON the server wrote; the store keeps it as it is.
    public let snapshot: String
    /// When the copy was made.
    public let sharedAt: Date

    public init(token: String, conversationID: String, snapshot: String, sharedAt: Date) {
        self.token = token
        self.conversationID = conversationID
        self.snapshot = snapshot
        self.sharedAt = sharedAt
    }
}

/// One of a user's shared links as their list shows it (ChatGPT's "Shared links"): which conversation, under what
/// name now, and when its copy was made.
public struct SharedLinkSummary: Sendable, Equatable {
    public let token: String
    public let conversationID: String
    /// The conversation's title now.
    public let title: String
    public let sharedAt: Date

    public init(token: String, conversationID: String, title: String, sharedAt: Date) {
        self.token = token
        self.conversationID = conversationID
        self.title = title
        self.sharedAt = sharedAt
    }
}
