import Foundation

/// The memories each user keeps (`Memory`), and whether their web conversations use them.
public protocol MemoryStore: Sendable {
    /// The user's memories, newest first.
    func memories(userID: String) async throws -> [Memory]
    func memory(id: String) async throws -> Memory?
    /// What a web turn's prompt carries, in one read: the contents of the user's newest memories whose lines (each its
    /// length and 3 more) fit in `characters`, newest first, and whether the user has more; none when the user turned
    /// memory off or the conversation is unkept (a temporary chat).
    func promptMemories(userID: String, conversationID: String, characters: Int) async throws -> PromptMemories
    /// Stores a new memory unless its user has `limit` already (`false`, nothing stored), in one statement so that
    /// two at once cannot both pass the limit.
    func addMemory(_ memory: Memory, limit: Int) async throws -> Bool
    /// Writes the memory's content and `updatedAt`.
    func updateMemory(_ memory: Memory) async throws
    func deleteMemory(id: String) async throws
    /// Deletes every memory of the user's; how many there were.
    func deleteAllMemories(userID: String) async throws -> Int
    /// Keeps with an answer what its question asked of the user's memory.
    func setMemoryNote(messageID: String, note: MemoryNote) async throws
    /// Whether the user's web conversations read their memories and a message may save one (on unless turned off).
    func memoryEnabled(userID: String) async throws -> Bool
    func setMemoryEnabled(userID: String, enabled: Bool) async throws
}
