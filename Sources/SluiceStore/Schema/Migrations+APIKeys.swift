import Foundation

extension Migrations {
    /// Step 21: labelled keys besides a user's token (`APIKey`), so that each application or teammate has its own
    /// and one can be revoked, or rotated, without breaking the others. Only hashes are stored; a label is unique
    /// per user, revoked keys included, so that `sluice user key list` never shows two alike.
    static let apiKeysStep = Step(
        version: 21,
        statements: [
            """
            CREATE TABLE api_keys (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                label TEXT NOT NULL,
                token_hash TEXT NOT NULL UNIQUE,
                created_at INTEGER NOT NULL,
                revoked_at INTEGER,
                UNIQUE (user_id, label)
            )
            """,
        ])
}
