import Foundation
import PostgresNIO
import SluiceCore

/// Users: created, found by a token (theirs or an API key's), and their models, token and custom instructions.
extension PostgresStore {
    public func createUser(name: String, plan: Plan, tokenHash: String) async throws -> User {
        var user = User(id: Identifier.make(), name: name, plan: plan, createdAt: StoredValues.now())
        do {
            let inserted = try await rows(
                """
                INSERT INTO users (id, name, plan, token_hash, created_at, is_admin)
                VALUES (\(user.id), \(name), \(plan.rawValue), \(tokenHash), \(StoredValues.milliseconds(user.createdAt)),
                        CASE WHEN EXISTS (SELECT 1 FROM users) THEN 0 ELSE 1 END)
                RETURNING is_admin
                """)
            user.isAdmin = inserted.first?.int("is_admin") == 1
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            throw StoreError.conflict("a user named \(name) already exists")
        }
        return user
    }

    public func setSuspended(userID: String, suspended: Bool) async throws {
        let at: Int? = suspended ? StoredValues.milliseconds(StoredValues.now()) : nil
        // Restored is approved too (`pending`, step 57).
        let pending: Int? = suspended ? nil : 0
        try await execute("UPDATE users SET suspended_at = \(at), pending = COALESCE(\(pending), pending) WHERE id = \(userID)", logger: logger)
    }

    public func deleteUser(userID: String) async throws -> Bool {
        // No longer an administrator first: refused, in one statement, for the last one.
        guard try await setAdmin(userID: userID, isAdmin: false) else { return false }
        let now = StoredValues.milliseconds(StoredValues.now())
        let name = Migrations.deletedNamePrefix + userID
        let unusable = "deleted:" + Identifier.make()
        // One statement: its parts see one snapshot and commit together.
        try await execute(
            """
            WITH unmarked AS (
                DELETE FROM unkept_conversations WHERE conversation_id IN (SELECT id FROM conversations WHERE user_id = \(userID))),
            conversations_gone AS (DELETE FROM conversations WHERE user_id = \(userID)),
            projects_gone AS (DELETE FROM projects WHERE user_id = \(userID)),
            prompts_gone AS (DELETE FROM saved_prompts WHERE user_id = \(userID)),
            memories_gone AS (DELETE FROM memories WHERE user_id = \(userID)),
            identities_gone AS (DELETE FROM identities WHERE user_id = \(userID)),
            cache_gone AS (DELETE FROM response_cache WHERE user_id = \(userID)),
            keys_revoked AS (UPDATE api_keys SET revoked_at = COALESCE(revoked_at, \(now)) WHERE user_id = \(userID)),
            sessions_gone AS (DELETE FROM sessions WHERE user_id = \(userID)),
            two_step_gone AS (DELETE FROM two_step WHERE user_id = \(userID)),
            codes_gone AS (DELETE FROM recovery_codes WHERE user_id = \(userID)),
            log_gone AS (DELETE FROM security_events WHERE user_id = \(userID))
            UPDATE users SET name = \(name), token_hash = \(unusable), deleted_at = \(now), suspended_at = COALESCE(suspended_at, \(now)),
                instructions = NULL, allowed_models = NULL, password_hash = NULL, team_id = NULL
            WHERE id = \(userID)
            """, logger: logger)
        return true
    }

    public func setAdmin(userID: String, isAdmin: Bool) async throws -> Bool {
        let flag = isAdmin ? 1 : 0
        return !(try await rows(
            """
            UPDATE users SET is_admin = \(flag)
            WHERE id = \(userID) AND (\(flag) = 1 OR is_admin = 0 OR EXISTS (\(unescaped: StoredValues.anotherActiveAdmin("users.id"))))
            RETURNING id
            """
        ).isEmpty)
    }

    public func setAllowedModels(userID: String, models: [String]?) async throws {
        try await execute(
            "UPDATE users SET allowed_models = \(models.map(StoredValues.encodeModels)) WHERE id = \(userID)", logger: logger)
    }

    public func credential(tokenHash: String) async throws -> Credential? {
        try await rows(
            """
            SELECT *, NULL AS key_id, NULL AS key_label, NULL AS key_expires_at, NULL AS key_models, NULL AS key_daily, NULL AS key_rpm, NULL AS key_tpm, NULL AS key_parallel, NULL AS key_tags, \(unescaped: StoredValues.teamModelsColumn(of: "users")) FROM users WHERE token_hash = \(tokenHash)
            UNION ALL
            SELECT u.*, k.id AS key_id, k.label AS key_label, k.expires_at AS key_expires_at, k.allowed_models AS key_models, k.daily_usd_limit_picousd AS key_daily, k.requests_per_minute AS key_rpm, k.tokens_per_minute AS key_tpm, k.max_parallel_requests AS key_parallel, k.tags AS key_tags, \(unescaped: StoredValues.teamModelsColumn(of: "u")) FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.token_hash = \(tokenHash) AND k.revoked_at IS NULL
            UNION ALL
            SELECT u.*, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, \(unescaped: StoredValues.teamModelsColumn(of: "u")) FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = \(tokenHash) AND s.expires_at > \(StoredValues.milliseconds(StoredValues.now()))
            LIMIT 1
            """
        ).first.map(StoredValues.credential)
    }

    public func user(named name: String) async throws -> User? {
        try await rows("SELECT * FROM users WHERE name = \(name)").first.map(StoredValues.user)
    }

    public func users() async throws -> [User] {
        try await rows("SELECT * FROM users WHERE deleted_at IS NULL ORDER BY created_at, name").map(StoredValues.user)
    }

    public func setTokenHash(userID: String, tokenHash: String) async throws {
        try await execute("UPDATE users SET token_hash = \(tokenHash) WHERE id = \(userID)", logger: logger)
    }

    public func userInstructions(userID: String) async throws -> String? {
        try await rows("SELECT instructions FROM users WHERE id = \(userID)").first?.string("instructions")
    }

    public func setUserInstructions(userID: String, instructions: String?) async throws {
        try await execute("UPDATE users SET instructions = \(instructions) WHERE id = \(userID)", logger: logger)
    }
}
