extension Migrations {
    /// Step 69: the people an OpenID Connect provider signed in, each tied to a user (`IdentityStore`), found by their
    /// issuer and subject and, for a user's deletion, by `identities_by_user`.
    static let identitiesStep = Step(
        version: 69,
        statements: [
            """
            CREATE TABLE identities (
                issuer TEXT NOT NULL,
                subject TEXT NOT NULL,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                created_at INTEGER NOT NULL,
                PRIMARY KEY (issuer, subject)
            )
            """,
            "CREATE INDEX identities_by_user ON identities(user_id)",
        ])
}
