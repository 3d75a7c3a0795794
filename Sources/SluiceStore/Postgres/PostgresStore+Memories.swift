import Foundation
import PostgresNIO
import SluiceCore

/// The memories users keep across conversations (`Memory`, schema step 68).
extension PostgresStore {
    public func memories(userID: String) async throws -> [Memory] {
        try await rows("SELECT * FROM memories WHERE user_id = \(userID) ORDER BY created_at DESC, id DESC").map(StoredValues.memory)
    }

    public func memory(id: String) async throws -> Memory? {
        try await rows("SELECT * FROM memories WHERE id = \(id)").first.map(StoredValues.memory)
    }

    public func promptMemories(userID: String, conversationID: String, characters: Int) async throws -> PromptMemories {
        // The rows that fit and the first that does not (whose lines before it fit): it says there are more.
        let found = try await rows(
            """
            SELECT content, used FROM (
                SELECT m.content, SUM(LENGTH(m.content) + 3) OVER (ORDER BY m.created_at DESC, m.id DESC) AS used
                FROM memories m JOIN users u ON u.id = m.user_id
                WHERE m.user_id = \(userID) AND u.memory_enabled = 1
                    AND NOT EXISTS (SELECT 1 FROM unkept_conversations WHERE conversation_id = \(conversationID))
            ) AS newest WHERE used - LENGTH(content) - 3 <= \(characters) ORDER BY used
            """
        )
        let fitting = found.filter { ($0.int("used") ?? .max) <= characters }
        return PromptMemories(newest: fitting.map { $0.text("content") }, more: fitting.count < found.count)
    }

    public func addMemory(_ memory: Memory, limit: Int) async throws -> Bool {
        // The user's row locked first, in a statement of its own: the insert's count then sees every add that held the
        // lock before it (a statement's snapshot is taken when it starts), so two at once (from two instances) count
        // one after the other.
        try await transaction { connection in
            try await connection.query("SELECT id FROM users WHERE id = \(memory.userID) FOR UPDATE", logger: logger)
            return try await connection.query(
                """
                INSERT INTO memories (id, user_id, content, created_at, updated_at)
                SELECT \(memory.id), \(memory.userID), \(memory.content), \(StoredValues.milliseconds(memory.createdAt)),
                       \(StoredValues.milliseconds(memory.updatedAt))
                WHERE (SELECT COUNT(*) FROM memories WHERE user_id = \(memory.userID)) < \(limit)
                RETURNING id
                """, logger: logger
            ).collect().count == 1
        }
    }

    public func updateMemory(_ memory: Memory) async throws {
        try await execute(
            "UPDATE memories SET content = \(memory.content), updated_at = \(StoredValues.milliseconds(memory.updatedAt)) WHERE id = \(memory.id)",
            logger: logger)
    }

    public func deleteMemory(id: String) async throws {
        try await execute("DELETE FROM memories WHERE id = \(id)", logger: logger)
    }

    public func deleteAllMemories(userID: String) async throws -> Int {
        try await rows("DELETE FROM memories WHERE user_id = \(userID) RETURNING id").count
    }

    public func setMemoryNote(messageID: String, note: MemoryNote) async throws {
        try await execute("UPDATE messages SET memory = \(StoredValues.json(note)) WHERE id = \(messageID)", logger: logger)
    }

    public func memoryEnabled(userID: String) async throws -> Bool {
        try await rows("SELECT memory_enabled FROM users WHERE id = \(userID)").first?.int("memory_enabled") != 0
    }

    public func setMemoryEnabled(userID: String, enabled: Bool) async throws {
        try await execute("UPDATE users SET memory_enabled = \(enabled ? 1 : 0) WHERE id = \(userID)", logger: logger)
    }
}
