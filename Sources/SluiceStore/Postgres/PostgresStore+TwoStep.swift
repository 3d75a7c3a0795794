import Foundation
import PostgresNIO
import SluiceCore

/// Two-step verification (`TwoStepStore`, schema step 60) on PostgreSQL.
extension PostgresStore {
    public func twoStep(userID: String) async throws -> TwoStepState? {
        try await rows(
            """
            SELECT secret, enabled_at, last_step, (SELECT COUNT(*) FROM recovery_codes r WHERE r.user_id = t.user_id) AS codes_left
            FROM two_step t WHERE user_id = \(userID)
            """
        ).first.map(StoredValues.twoStep)
    }

    public func beginTwoStep(userID: String, secret: String) async throws -> Bool {
        !(try await rows(
            """
            INSERT INTO two_step (user_id, secret) VALUES (\(userID), \(secret))
            ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, last_step = 0 WHERE two_step.enabled_at IS NULL
            RETURNING user_id
            """
        ).isEmpty)
    }

    public func enableTwoStep(userID: String, step: Int64, recoveryCodeHashes: [String]) async throws -> Bool {
        let now = StoredValues.milliseconds(StoredValues.now())
        // One statement: the codes are put in place only when the secret is turned on.
        return !(try await rows(
            """
            WITH enabled AS (
                UPDATE two_step SET enabled_at = \(now), last_step = \(step)
                WHERE user_id = \(userID) AND enabled_at IS NULL AND last_step < \(step) RETURNING user_id),
            old_codes AS (DELETE FROM recovery_codes WHERE user_id IN (SELECT user_id FROM enabled)),
            new_codes AS (
                INSERT INTO recovery_codes (user_id, code_hash)
                SELECT DISTINCT e.user_id, c FROM enabled e, unnest(\(recoveryCodeHashes)::text[]) AS c)
            SELECT user_id FROM enabled
            """
        ).isEmpty)
    }

    public func takeTwoStepCode(userID: String, step: Int64) async throws -> Bool {
        !(try await rows(
            """
            UPDATE two_step SET last_step = \(step) WHERE user_id = \(userID) AND enabled_at IS NOT NULL AND last_step < \(step)
            RETURNING user_id
            """
        ).isEmpty)
    }

    public func takeRecoveryCode(userID: String, codeHash: String) async throws -> Bool {
        !(try await rows(
            "DELETE FROM recovery_codes WHERE user_id = \(userID) AND code_hash = \(codeHash) RETURNING code_hash"
        ).isEmpty)
    }

    public func replaceRecoveryCodes(userID: String, hashes: [String]) async throws {
        try await transaction { connection in
            try await connection.query("DELETE FROM recovery_codes WHERE user_id = \(userID)", logger: logger)
            try await connection.query(
                """
                INSERT INTO recovery_codes (user_id, code_hash) SELECT DISTINCT \(userID), c FROM unnest(\(hashes)::text[]) AS c
                """, logger: logger)
        }
    }

    public func twoStepUserIDs() async throws -> Set<String> {
        Set(try await rows("SELECT user_id FROM two_step WHERE enabled_at IS NOT NULL").map { $0.text("user_id") })
    }

    public func disableTwoStep(userID: String) async throws -> Bool {
        !(try await rows(
            """
            WITH codes_gone AS (DELETE FROM recovery_codes WHERE user_id = \(userID))
            DELETE FROM two_step WHERE user_id = \(userID) RETURNING user_id
            """
        ).isEmpty)
    }
}
