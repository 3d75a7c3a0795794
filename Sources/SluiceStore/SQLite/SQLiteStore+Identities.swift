import Foundation
import SluiceCore

/// The people an OpenID Connect provider signed in (`IdentityStore`, schema step 69) on SQLite.
extension SQLiteStore {
    public func user(issuer: String, subject: String) async throws -> User? {
        try await connection.query(
            """
            SELECT u.* FROM identities i JOIN users u ON u.id = i.user_id
            WHERE i.issuer = ? AND i.subject = ? AND u.deleted_at IS NULL
            """, [.text(issuer), .text(subject)]
        ).first.map(StoredValues.user)
    }

    public func linkIdentity(issuer: String, subject: String, userID: String) async throws -> Bool {
        !(try await connection.query(
            "INSERT INTO identities (issuer, subject, user_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING user_id",
            [.text(issuer), .text(subject), .text(userID), .integer(Self.milliseconds(StoredValues.now()))]
        ).isEmpty)
    }

    public func identityIssuers(userID: String) async throws -> [String] {
        try await connection.query("SELECT issuer FROM identities WHERE user_id = ? ORDER BY created_at", [.text(userID)])
            .map { $0.text("issuer") }
    }

    public func identityUserIDs() async throws -> Set<String> {
        Set(try await connection.query("SELECT DISTINCT user_id FROM identities").map { $0.text("user_id") })
    }

    public func unlinkIdentities(userID: String, issuer: String) async throws -> Int {
        try await connection.query(
            "DELETE FROM identities WHERE user_id = ? AND issuer = ? RETURNING subject", [.text(userID), .text(issuer)]
        ).count
    }
}
