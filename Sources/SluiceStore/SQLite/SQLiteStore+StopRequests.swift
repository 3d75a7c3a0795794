import SluiceCore

/// One process owns an SQLite file, so every answer it writes runs in that process's `GenerationHub`, which a stop
/// reaches directly: there is nothing to record and nothing to watch for.
extension SQLiteStore {
    public func requestStop(messageID: String) async throws -> Bool { false }

    public func watchStopRequests(_ deliver: @escaping @Sendable ([String]) async -> Void) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(3600))
        }
    }
}
