import Foundation
import SluiceCore

/// The statement of one page of a user's conversation list (`ConversationStore.conversationPage`), written once for
/// both databases. Keyset paging: the page after a cursor starts below the cursor's place in the list's order —
/// pinned ones first, then by `updated_at`, then by the store's insertion order
/// (SQLite's `rowid`, PostgreSQL's `seq`); the archived by `archived_at` — so it reads through the user's index from
/// there rather than counting an offset. One row more than the limit is asked for, to know whether another page
/// follows.
enum ConversationPageSQL {
    enum Bind: Equatable {
        case text(String)
        case integer(Int64)
    }

    /// The column each row carries its tie-break in, for the next cursor.
    static let sequenceColumn = "page_seq"

    static func statement(userID: String, listing: ConversationListing, dialect: SQLDialect) -> (sql: String, binds: [Bind]) {
        var binds: [Bind] = []
        func bind(_ value: Bind) -> String {
            binds.append(value)
            return dialect == .sqlite ? "?\(binds.count)" : "$\(binds.count)"
        }
        let last = dialect == .sqlite ? "rowid" : "seq"
        var conditions = [
            "user_id = \(bind(.text(userID)))",
            listing.archived ? "archived_at IS NOT NULL" : "archived_at IS NULL",
            // Since step 37 the conversations not to be kept (a temporary chat, a `store: false` turn's) are left out.
            StoredValues.keptOnly("conversations"),
        ]
        switch listing.project {
        case .any: break
        case .none: conditions.append("project_id IS NULL")
        case .project(let id): conditions.append("project_id = \(bind(.text(id)))")
        }
        // Written as the indexes of step 48 read backwards (`pinned_at IS NOT NULL` descending: the pinned first), with
        // that expression as the index has it, so that SQLite reads a page from the index rather than sorting.
        let pinned = "(pinned_at IS NOT NULL)"
        var order = listing.archived ? "archived_at DESC, \(last) DESC" : "\(pinned) DESC, updated_at DESC, \(last) DESC"
        if let cursor = listing.after {
            let time = listing.archived ? "archived_at" : "updated_at"
            let below = "(\(time), \(last)) < (\(bind(.integer(cursor.milliseconds))), \(bind(.integer(cursor.sequence))))"
            switch cursor.rank {
            // After a pinned one: the pinned below it, then every one not pinned.
            case 0: conditions.append("(\(pinned) = FALSE OR \(below))")
            // After one not pinned: only those, so the order needs no pinned term (and the index is read from the cursor).
            case 1:
                conditions.append("\(pinned) = FALSE AND \(below)")
                order = "updated_at DESC, \(last) DESC"
            default: conditions.append(below)
            }
        }
        let limit = listing.limit.map { " LIMIT \(bind(.integer(Int64($0) + 1)))" } ?? ""
        let sql = """
            SELECT conversations.*, \(last) AS \(sequenceColumn) FROM conversations
            WHERE \(conditions.joined(separator: " AND ")) ORDER BY \(order)\(limit)
            """
        return (sql, binds)
    }

    /// The page the statement's `rows` make: at most the listing's limit, and the cursor after the last of them when
    /// the statement found one more.
    static func page(_ rows: [some StoredRow], listing: ConversationListing) -> ConversationPage {
        guard let limit = listing.limit, rows.count > limit else {
            return ConversationPage(conversations: rows.map(StoredValues.conversation), next: nil)
        }
        let kept = rows.prefix(limit)
        let last = kept[kept.index(before: kept.endIndex)]
        let next = ConversationCursor(
            rank: listing.archived ? 2 : (last.int("pinned_at") == nil ? 1 : 0),
            milliseconds: Int64(last.int(listing.archived ? "archived_at" : "updated_at") ?? 0),
            sequence: Int64(last.int(sequenceColumn) ?? 0))
        return ConversationPage(conversations: kept.map(StoredValues.conversation), next: next)
    }
}
