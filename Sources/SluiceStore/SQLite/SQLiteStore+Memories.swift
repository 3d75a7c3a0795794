import Foundation
import SluiceCore

/// The memories users keep across conversations (`Memory`, schema step 68).
extension SQLiteStore {
    public func memories(userID: String) async throws -> [Memory] {
        try await connection.query(
            "SELECT * FROM memories WHERE user_id = ? ORDER BY created_at DESC, id DESC", [.text(userID)]
        ).map(StoredValues.memory)
    }

    public func memory(id: String) async throws -> Memory? {
        try await connection.query("SELECT * FROM memories WHERE id = ?", [.text(id)]).first.map(StoredValues.memory)
    }

    public func promptMemories(userID: String, conversationID: String, characters: Int) async throws -> PromptMemories {
        // The rows that fit and the first that does not (whose lines before it fit): it says there are more.
        let found = try await connection.query(
            """
            SELECT content, used FROM (
                SELECT m.content, SUM(LENGTH(m.content) + 3) OVER (ORDER BY m.created_at DESC, m.id DESC) AS used
                FROM memories m JOIN users u ON u.id = m.user_id
                WHERE m.user_id = ?1 AND u.memory_enabled = 1
                    AND NOT EXISTS (SELECT 1 FROM unkept_conversations WHERE conversation_id = ?2)
            ) WHERE used - LENGTH(content) - 3 <= ?3 ORDER BY used
            """, [.text(userID), .text(conversationID), .integer(characters)]
        )
        let fitting = found.filter { ($0.int("used") ?? .max) <= characters }
        return PromptMemories(newest: fitting.map { $0.text("content") }, more: fitting.count < found.count)
    }

    public func addMemory(_ memory: Memory, limit: Int) async throws -> Bool {
        // One statement on the one writer: the count and the insert cannot be split by another add.
        !(try await connection.query(
            """
            INSERT INTO memories (id, user_id, content, created_at, updated_at)
            SELECT ?1, ?2, ?3, ?4, ?5 WHERE (SELECT COUNT(*) FROM memories WHERE user_id = ?2) < ?6
            RETURNING id
            """,
            [
                .text(memory.id), .text(memory.userID), .text(memory.content), .integer(Self.milliseconds(memory.createdAt)),
                .integer(Self.milliseconds(memory.updatedAt)), .integer(limit),
            ]
        ).isEmpty)
    }

    public func updateMemory(_ memory: Memory) async throws {
        _ = try await connection.query(
            "UPDATE memories SET content = ?, updated_at = ? WHERE id = ?",
            [.text(memory.content), .integer(Self.milliseconds(memory.updatedAt)), .text(memory.id)])
    }

    public func deleteMemory(id: String) async throws {
        _ = try await connection.query("DELETE FROM memories WHERE id = ?", [.text(id)])
    }

    public func deleteAllMemories(userID: String) async throws -> Int {
        try await connection.query("DELETE FROM memories WHERE user_id = ? RETURNING id", [.text(userID)]).count
    }

    public func setMemoryNote(messageID: String, note: MemoryNote) async throws {
        _ = try await connection.query("UPDATE messages SET memory = ? WHERE id = ?", [.text(StoredValues.json(note)), .text(messageID)])
    }

    public func memoryEnabled(userID: String) async throws -> Bool {
        try await connection.query("SELECT memory_enabled FROM users WHERE id = ?", [.text(userID)]).first?.int("memory_enabled") != 0
    }

    public func setMemoryEnabled(userID: String, enabled: Bool) async throws {
        _ = try await connection.query("UPDATE users SET memory_enabled = ? WHERE id = ?", [.integer(enabled ? 1 : 0), .text(userID)])
    }
}
