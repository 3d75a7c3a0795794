import SluiceCore

extension SQLiteStore {
    public func autoTitles(userID: String) async throws -> Bool {
        try await connection.query("SELECT auto_titles FROM users WHERE id = ?", [.text(userID)]).first?.int("auto_titles") != 0
    }

    public func setAutoTitles(userID: String, enabled: Bool) async throws {
        _ = try await connection.query("UPDATE users SET auto_titles = ? WHERE id = ?", [.integer(enabled ? 1 : 0), .text(userID)])
    }
}
