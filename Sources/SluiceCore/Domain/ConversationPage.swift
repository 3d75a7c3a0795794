import Foundation

/// Which of a user's conversations one page of their list holds (`ConversationStore.conversationPage`): the list
/// (pinned ones first, then the most recently updated) or the archived ones (most recently archived first), in any
/// project, in none, or in one; at most `limit` (`nil`: all the rest), after `cursor`.
public struct ConversationListing: Sendable, Equatable {
    /// The project a listed conversation is in.
    public enum ProjectFilter: Sendable, Equatable {
        case any
        /// Only the conversations in no project (the web app's list, whose projects hold their own).
        case none
        case project(String)
    }

    public var archived: Bool
    public var project: ProjectFilter
    public var limit: Int?
    public var after: ConversationCursor?

    public init(archived: Bool = false, project: ProjectFilter = .any, limit: Int? = nil, after: ConversationCursor? = nil) {
        self.archived = archived
        self.project = project
        self.limit = limit
        self.after = after
    }
}

/// Where a page of conversations ended: the last one's place in the list's order. Keyset paging rather than an
/// offset, so that a conversation moving to the top meanwhile (a new message) neither repeats one on the next page
/// nor skips one. Its text (`description`) is opaque to clients; it is only ever handed back.
public struct ConversationCursor: Sendable, Hashable, CustomStringConvertible {
    /// 0: among the pinned, 1: among the rest, 2: among the archived (the order's first key).
    public var rank: Int
    /// The last one's `updated_at` (`archived_at` among the archived), in milliseconds.
    public var milliseconds: Int64
    /// The last one's insertion order in its store (SQLite's `rowid`, PostgreSQL's `seq`): the tie-break.
    public var sequence: Int64

    public init(rank: Int, milliseconds: Int64, sequence: Int64) {
        self.rank = rank
        self.milliseconds = milliseconds
        self.sequence = sequence
    }

    /// Reads a cursor back from its text; `nil` for anything this server did not write.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, let rank = Int(parts[0]), (0...2).contains(rank),
            let milliseconds = Int64(parts[1]), milliseconds >= 0, let sequence = Int64(parts[2]), sequence >= 0
        else { return nil }
        self.init(rank: rank, milliseconds: milliseconds, sequence: sequence)
    }

    public var description: String { "\(rank)-\(milliseconds)-\(sequence)" }

    /// Whether a cursor of this rank can continue `listing` (an archived list's cursor cannot continue the other).
    public func continues(_ listing: ConversationListing) -> Bool { (rank == 2) == listing.archived }
}

/// One page of a user's conversations and, while more remain, where the next one starts.
public struct ConversationPage: Sendable, Equatable {
    public var conversations: [Conversation]
    public var next: ConversationCursor?

    public init(conversations: [Conversation], next: ConversationCursor?) {
        self.conversations = conversations
        self.next = next
    }
}
