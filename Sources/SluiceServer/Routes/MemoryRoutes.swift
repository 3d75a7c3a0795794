import Foundation
import Hummingbird
import Logging
import SluiceCore

/// `/api/memories`: what the caller asked Sluice to remember across conversations (ChatGPT's saved memories, Open
/// WebUI's Memory). `GET` → `{"enabled", "limit", "memories": [newest first]}`; `POST {"content"}` keeps one (201;
/// `409 memory_full` at `Memory.maxCount`); `PATCH /{id} {"content"}` rewrites one; `DELETE /{id}` forgets one (204);
/// `DELETE` forgets them all (`{"deleted": n}`). Another user's memory is 403. Whether they are used is
/// `memory` in `/api/me/settings`; a web message that begins "Remember that …" saves one too, and one that begins
/// "Forget that …" forgets those it names (`follow`).
struct MemoryRoutes {
    let store: any ConversationStore

    func register(on api: RouterGroup<SluiceRequestContext>) {
        api.get("memories", use: list)
        api.post("memories", use: create)
        api.delete("memories", use: deleteAll)
        api.patch("memories/:id", use: update)
        api.delete("memories/:id", use: delete)
    }

    @Sendable func list(_ request: Request, context: SluiceRequestContext) async throws -> MemoryList {
        let user = try context.requireUser()
        return MemoryList(
            enabled: try await store.memoryEnabled(userID: user.id), limit: Memory.maxCount,
            memories: try await store.memories(userID: user.id).map(MemoryResource.init))
    }

    @Sendable func create(_ request: Request, context: SluiceRequestContext) async throws -> EditedResponse<MemoryResource> {
        let user = try context.requireUser()
        let memory = Memory.saving(try await Self.content(request, context: context), userID: user.id)
        try await Self.remember(memory, in: store)
        return EditedResponse(status: .created, response: MemoryResource(memory))
    }

    @Sendable func update(_ request: Request, context: SluiceRequestContext) async throws -> MemoryResource {
        var memory = try await owned(context)
        memory.content = try await Self.content(request, context: context)
        memory.updatedAt = Date.nowToTheMillisecond
        try await store.updateMemory(memory)
        return MemoryResource(memory)
    }

    @Sendable func delete(_ request: Request, context: SluiceRequestContext) async throws -> HTTPResponse.Status {
        try await store.deleteMemory(id: try await owned(context).id)
        return .noContent
    }

    struct Deleted: ResponseEncodable {
        let deleted: Int
    }

    @Sendable func deleteAll(_ request: Request, context: SluiceRequestContext) async throws -> Deleted {
        Deleted(deleted: try await store.deleteAllMemories(userID: try context.requireUser().id))
    }

    /// Stores `memory`, or refuses with `409 memory_full` when its user keeps `Memory.maxCount` already.
    static func remember(_ memory: Memory, in store: any ConversationStore) async throws {
        guard try await store.addMemory(memory, limit: Memory.maxCount) else {
            throw APIError(
                .conflict, code: "memory_full",
                message: "Your memory is full (\(Memory.maxCount) memories). Delete some under Personalize → Memory to make room for new ones.")
        }
    }

    /// Does what a web message asks of the user's memory once its turn has begun (the guard and the budget let it
    /// through): saves the fact of a "Remember that …" (`MemoryPrompt.fact`), or forgets the memories a "Forget that
    /// …" names (`MemoryPrompt.forgetting`, `forgets`), and keeps what it did with the turn's `answer` (shown above
    /// it when the conversation is opened again). `nil` when it asks neither, the user turned memory off, or
    /// `conversation` is a temporary chat. The turn goes on whatever happens here: a store that fails is logged, not
    /// thrown.
    static func follow(
        _ message: String, askedIn conversation: Conversation, answer: String, by user: User, store: any ConversationStore,
        logger: Logger
    ) async -> MemoryNote? {
        let note = await act(on: message, askedIn: conversation, by: user, store: store, logger: logger)
        if let note {
            do {
                try await store.setMemoryNote(messageID: answer, note: note)
            } catch {
                logger.warning("What the message did to the user's memory was not kept with its answer", metadata: ["error": "\(error)"])
            }
        }
        return note
    }

    private static func act(
        on message: String, askedIn conversation: Conversation, by user: User, store: any ConversationStore, logger: Logger
    ) async -> MemoryNote? {
        let fact = MemoryPrompt.fact(in: message)
        let forgetting = fact == nil ? MemoryPrompt.forgetting(in: message) : nil
        guard fact != nil || forgetting != nil else { return nil }
        do {
            guard try await store.memoryEnabled(userID: user.id), try await !store.isUnkept(conversationID: conversation.id) else {
                return nil
            }
            if let fact {
                let memory = Memory.saving(fact, userID: user.id)
                guard try await store.addMemory(memory, limit: Memory.maxCount) else { return .init(action: .full, content: fact) }
                return .init(action: .saved, content: fact, id: memory.id)
            }
            guard let forgetting else { return nil }
            let matched = try await store.memories(userID: user.id).filter { MemoryPrompt.forgets($0.content, phrase: forgetting) }
            for memory in matched { try await store.deleteMemory(id: memory.id) }
            return matched.isEmpty
                ? .init(action: .unmatched, content: forgetting)
                : .init(action: .forgotten, content: forgetting, forgotten: matched.map(\.content))
        } catch {
            logger.warning("What the message asked of the user's memory was not done", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// The memory the path names: 404 when there is none, 403 when it is another user's.
    private func owned(_ context: SluiceRequestContext) async throws -> Memory {
        try await Ownership(store: store).memory(try context.parameters.require("id"), for: try context.requireUser())
    }

    /// The body's `content`: required, at most `Memory.maxContentLength` characters, not blank (`Memory.content`).
    static func content(_ request: Request, context: SluiceRequestContext) async throws -> String {
        let body = try await JSONObjectBody(request: request, context: context, allowEmpty: false)
        try body.rejectingUnknownFields(["content"]) { "'\($0)' is not a field of a memory: send {\"content\": \"…\"}." }
        guard let text = try body.optionalString("content", maxLength: Memory.maxContentLength), let content = Memory.content(text) else {
            throw APIError.invalid(
                "Send {\"content\": \"I am vegetarian.\"}: what to remember, 1 to \(Memory.maxContentLength) characters.")
        }
        return content
    }
}

struct MemoryResource: ResponseEncodable {
    let id: String
    let content: String
    let createdAt: Date
    let updatedAt: Date

    init(_ memory: Memory) {
        id = memory.id
        content = memory.content
        createdAt = memory.createdAt
        updatedAt = memory.updatedAt
    }
}

struct MemoryList: ResponseEncodable {
    /// Whether the user's web conversations use their memories (`memory` in `/api/me/settings`).
    let enabled: Bool
    /// The most memories a user keeps.
    let limit: Int
    let memories: [MemoryResource]
}
