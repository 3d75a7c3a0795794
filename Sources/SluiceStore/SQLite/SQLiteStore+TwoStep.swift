import Foundation
import GRDB
import SluiceCore

/// Two-step verification (`TwoStepStore`, schema step 60) on SQLite.
extension SQLiteStore {
    public func twoStep(userID: String) async throws -> TwoStepState? {
        try await connection.query(
            """
            SELECT secret, enabled_at, last_step, (SELECT COUNT(*) FROM recovery_codes r WHERE r.user_id = t.user_id) AS codes_left
            FROM two_step t WHERE user_id = ?
            """, [.text(userID)]
        ).first.map(StoredValues.twoStep)
    }

    public func beginTwoStep(userID: String, secret: String) async throws -> Bool {
        !(try await connection.query(
            """
            INSERT INTO two_step (user_id, secret) VALUES (?, ?)
            ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, last_step = 0 WHERE two_step.enabled_at IS NULL
            RETURNING user_id
            """, [.text(userID), .text(secret)]
        ).isEmpty)
    }

    public func enableTwoStep(userID: String, step: Int64, recoveryCodeHashes: [String]) async throws -> Bool {
        let now = Self.milliseconds(StoredValues.now())
        return !(try await connection.transactionReturning { db in
            let enabled = try SQLiteConnection.run(
                """
                UPDATE two_step SET enabled_at = ?, last_step = ? WHERE user_id = ? AND enabled_at IS NULL AND last_step < ?
                RETURNING user_id
                """, [.integer(now), .integer(Int(step)), .text(userID), .integer(Int(step))], in: db)
            if !enabled.isEmpty { try Self.putRecoveryCodes(recoveryCodeHashes, userID: userID, in: db) }
            return enabled
        }.isEmpty)
    }

    public func takeTwoStepCode(userID: String, step: Int64) async throws -> Bool {
        !(try await connection.query(
            "UPDATE two_step SET last_step = ? WHERE user_id = ? AND enabled_at IS NOT NULL AND last_step < ? RETURNING user_id",
            [.integer(Int(step)), .text(userID), .integer(Int(step))]
        ).isEmpty)
    }

    public func takeRecoveryCode(userID: String, codeHash: String) async throws -> Bool {
        !(try await connection.query(
            "DELETE FROM recovery_codes WHERE user_id = ? AND code_hash = ? RETURNING code_hash", [.text(userID), .text(codeHash)]
        ).isEmpty)
    }

    public func replaceRecoveryCodes(userID: String, hashes: [String]) async throws {
        try await connection.transaction { db in try Self.putRecoveryCodes(hashes, userID: userID, in: db) }
    }

    public func twoStepUserIDs() async throws -> Set<String> {
        Set(try await connection.query("SELECT user_id FROM two_step WHERE enabled_at IS NOT NULL").map { $0.text("user_id") })
    }

    public func disableTwoStep(userID: String) async throws -> Bool {
        !(try await connection.transactionReturning { db in
            try SQLiteConnection.run("DELETE FROM recovery_codes WHERE user_id = ?", [.text(userID)], in: db)
            return try SQLiteConnection.run("DELETE FROM two_step WHERE user_id = ? RETURNING user_id", [.text(userID)], in: db)
        }.isEmpty)
    }

    private static func putRecoveryCodes(_ hashes: [String], userID: String, in db: Database) throws {
        try SQLiteConnection.run("DELETE FROM recovery_codes WHERE user_id = ?", [.text(userID)], in: db)
        for hash in hashes {
            try SQLiteConnection.run(
                "INSERT OR IGNORE INTO recovery_codes (user_id, code_hash) VALUES (?, ?)", [.text(userID), .text(hash)], in: db)
        }
    }
}
