import SluiceCore

/// Loads things by id and checks they belong to the caller: unknown is 404, someone else's is 403.
struct Ownership {
    let store: any ConversationStore

    func conversation(_ id: String, for user: User) async throws -> Conversation {
        guard let conversation = try await store.conversation(id: id) else { throw APIError.notFound("conversation") }
        guard conversation.userID == user.id else { throw APIError.forbidden }
        return conversation
    }

    /// An archived conversation is read-only until it is unarchived, as ChatGPT's: 409, saying how to go on.
    static func requireActive(_ conversation: Conversation) throws {
        guard conversation.archivedAt == nil else {
            throw APIError(
                .conflict, code: "conversation_archived",
                message: "This conversation is archived. Unarchive it to go on with it (PATCH it with {\"archived\": false}).")
        }
    }

    func project(_ id: String, for user: User) async throws -> Project {
        guard let project = try await store.project(id: id) else { throw APIError.notFound("project") }
        guard project.userID == user.id else { throw APIError.forbidden }
        return project
    }

    func savedPrompt(_ id: String, for user: User) async throws -> SavedPrompt {
        guard let prompt = try await store.savedPrompt(id: id) else { throw APIError.notFound("prompt") }
        guard prompt.userID == user.id else { throw APIError.forbidden }
        return prompt
    }

    func memory(_ id: String, for user: User) async throws -> Memory {
        guard let memory = try await store.memory(id: id) else { throw APIError.notFound("memory") }
        guard memory.userID == user.id else { throw APIError.forbidden }
        return memory
    }

    func message(_ id: String, for user: User) async throws -> (Message, Conversation) {
        guard let message = try await store.message(id: id) else { throw APIError.notFound("message") }
        let conversation = try await conversation(message.conversationID, for: user)
        return (message, conversation)
    }
}
