import Hummingbird
import SluiceCore

/// Reads the query of `GET /api/conversations` into a `ConversationListing`: `archived=true|false`, `project_id=`
/// one of the caller's projects or `none`, `limit=` 1…200 (without it, the whole list, as before paging), and
/// `cursor=` a page's `next_cursor`. Each mistake is a `400` that says which parameter and what it takes.
enum ConversationListQuery {
    /// The most a page holds (Open WebUI pages 50 at a time; ChatGPT 28).
    static let maxLimit = 200

    static func listing(_ parameters: Parameters, for user: User, store: any ConversationStore) async throws -> ConversationListing {
        var listing = ConversationListing()
        switch parameters.get("archived") {
        case nil, "false": listing.archived = false
        case "true": listing.archived = true
        default: throw APIError.invalid("'archived' must be true or false.")
        }
        if let limit = parameters.get("limit") {
            guard let count = Int(limit), (1...maxLimit).contains(count) else {
                throw APIError.invalid("'limit' must be a whole number from 1 to \(maxLimit) (leave it out for the whole list).")
            }
            listing.limit = count
        }
        if let text = parameters.get("cursor") {
            guard let cursor = ConversationCursor(text), cursor.continues(listing) else {
                throw APIError.invalid(
                    "'cursor' is not a cursor of this list: send the 'next_cursor' of the page before, with the same 'archived'.")
            }
            listing.after = cursor
        }
        switch parameters.get("project_id") {
        case nil: break
        case "none": listing.project = .none
        case let id?: listing.project = .project(try await Ownership(store: store).project(id, for: user).id)
        }
        return listing
    }
}
