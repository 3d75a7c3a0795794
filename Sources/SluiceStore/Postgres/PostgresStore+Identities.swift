import Foundation
import PostgresNIO
import SluiceCore

/// The people an OpenID Connect provider signed in (`IdentityStore`, schema step 69) on PostgreSQL.
extension PostgresStore {
    public func user(issuer: String, subject: String) async throws -> User? {
        try await rows(
            """
            SELECT u.* FROM identities i JOIN users u ON u.id = i.user_id
            WHERE i.issuer = \(issuer) AND i.subject = \(subject) AND u.deleted_at IS NULL
            """
        ).first.map(StoredValues.user)
    }

    public func linkIdentity(issuer: String, subject: String, userID: String) async throws -> Bool {
        let now = StoredValues.milliseconds(StoredValues.now())
        return !(try await rows(
            """
            INSERT INTO identities (issuer, subject, user_id, created_at) VALUES (\(issuer), \(subject), \(userID), \(now))
            ON CONFLICT DO NOTHING RETURNING user_id
            """
        ).isEmpty)
    }

    public func identityIssuers(userID: String) async throws -> [String] {
        try await rows("SELECT issuer FROM identities WHERE user_id = \(userID) ORDER BY created_at").map { $0.text("issuer") }
    }

    public func identityUserIDs() async throws -> Set<String> {
        Set(try await rows("SELECT DISTINCT user_id FROM identities").map { $0.text("user_id") })
    }

    public func unlinkIdentities(userID: String, issuer: String) async throws -> Int {
        try await rows("DELETE FROM identities WHERE user_id = \(userID) AND issuer = \(issuer) RETURNING subject").count
    }
}
