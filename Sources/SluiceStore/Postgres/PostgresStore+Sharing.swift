import Foundation
import PostgresNIO
import SluiceCore

/// Conversations shared by link (`SharedLink`, schema step 42).
extension PostgresStore {
    public func share(conversationID: String, token: String, snapshot: String, at: Date) async throws -> SharedLink {
        // A conversation shared before keeps its token: the copy and its time are replaced.
        let rows = try await rows(
            """
            INSERT INTO shared_links (token, conversation_id, snapshot, created_at)
            VALUES (\(token), \(conversationID), \(snapshot), \(StoredValues.milliseconds(at)))
            ON CONFLICT (conversation_id) DO UPDATE SET snapshot = excluded.snapshot, created_at = excluded.created_at
            RETURNING token, conversation_id, snapshot, created_at
            """)
        guard let row = rows.first else { throw StoreError.notFound }
        return StoredValues.sharedLink(row)
    }

    public func sharedLink(conversationID: String) async throws -> SharedLink? {
        try await rows("SELECT * FROM shared_links WHERE conversation_id = \(conversationID)").first.map(StoredValues.sharedLink)
    }

    public func sharedLink(token: String) async throws -> SharedLink? {
        try await rows(PostgresQuery(unsafeSQL: StoredValues.sharedLinkQuery, binds: {
            var binds = PostgresBindings()
            binds.append(token)
            return binds
        }())).first.map(StoredValues.sharedLink)
    }

    public func sharedLinks(userID: String) async throws -> [SharedLinkSummary] {
        try await rows(PostgresQuery(unsafeSQL: StoredValues.sharedLinksQuery, binds: {
            var binds = PostgresBindings()
            binds.append(userID)
            return binds
        }())).map(StoredValues.sharedLinkSummary)
    }

    public func unshare(conversationID: String) async throws -> Bool {
        !(try await rows("DELETE FROM shared_links WHERE conversation_id = \(conversationID) RETURNING token").isEmpty)
    }
}
