import Foundation
import SluiceCore

/// Conversations shared by link (`SharedLink`, schema step 42).
extension SQLiteStore {
    public func share(conversationID: String, token: String, snapshot: String, at: Date) async throws -> SharedLink {
        // A conversation shared before keeps its token: the copy and its time are replaced.
        let rows = try await connection.query(
            """
            INSERT INTO shared_links (token, conversation_id, snapshot, created_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (conversation_id) DO UPDATE SET snapshot = excluded.snapshot, created_at = excluded.created_at
            RETURNING token, conversation_id, snapshot, created_at
            """,
            [.text(token), .text(conversationID), .text(snapshot), .integer(StoredValues.milliseconds(at))])
        guard let row = rows.first else { throw StoreError.notFound }
        return StoredValues.sharedLink(row)
    }

    public func sharedLink(conversationID: String) async throws -> SharedLink? {
        try await connection.query("SELECT * FROM shared_links WHERE conversation_id = ?", [.text(conversationID)])
            .first.map(StoredValues.sharedLink)
    }

    public func sharedLink(token: String) async throws -> SharedLink? {
        try await connection.query(StoredValues.sharedLinkQuery.replacingOccurrences(of: "$1", with: "?"), [.text(token)])
            .first.map(StoredValues.sharedLink)
    }

    public func sharedLinks(userID: String) async throws -> [SharedLinkSummary] {
        try await connection.query(StoredValues.sharedLinksQuery.replacingOccurrences(of: "$1", with: "?"), [.text(userID)])
            .map(StoredValues.sharedLinkSummary)
    }

    public func unshare(conversationID: String) async throws -> Bool {
        !(try await connection.query(
            "DELETE FROM shared_links WHERE conversation_id = ? RETURNING token", [.text(conversationID)]).isEmpty)
    }
}
