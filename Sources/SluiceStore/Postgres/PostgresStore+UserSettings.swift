import SluiceCore

extension PostgresStore {
    public func autoTitles(userID: String) async throws -> Bool {
        try await rows("SELECT auto_titles FROM users WHERE id = \(userID)").first?.int("auto_titles") != 0
    }

    public func setAutoTitles(userID: String, enabled: Bool) async throws {
        try await execute("UPDATE users SET auto_titles = \(enabled ? 1 : 0) WHERE id = \(userID)", logger: logger)
    }
}
