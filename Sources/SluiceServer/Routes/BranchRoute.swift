import Foundation
import Hummingbird
import SluiceCore

/// `POST /api/messages/{id}/branch`: ChatGPT's "Branch in new chat" (Open WebUI's clone, cut at a message) — a new
/// conversation of the caller's that holds the thread up to and including this answer, so that they can take it
/// another way and keep the original as it is. `201` with the new conversation (`ConversationResource`).
///
/// The copy is the shown thread (no earlier versions of a question or an answer), each message with its words,
/// files, images, function calls and results, the model that wrote it and the counts that model reported; the
/// conversation keeps the original's model and instructions, and its title reads "Branch · " and the original's. Its
/// messages are written now, in their order, so that it is the newest conversation in the list. Nothing goes upstream
/// and nothing is charged: what the copied answers cost stays with the original's usage (their cost is not shown twice).
/// Left behind: ratings, the running summary (folded again when the branch needs one) and the shared link.
///
/// An answer still being written cannot be branched from (`409 still_streaming`), nor a temporary chat (`409
/// temporary_chat`: it is deleted when left); only answers are branch points (`400`). Another user's message is a `403`.
struct BranchRoute {
    let store: any ConversationStore

    func register(on api: RouterGroup<SluiceRequestContext>) {
        api.post("messages/:id/branch", use: branch)
    }

    @Sendable func branch(_ request: Request, context: SluiceRequestContext) async throws -> EditedResponse<ConversationResource> {
        let user = try context.requireUser()
        let (message, conversation) = try await Ownership(store: store).message(try context.parameters.require("id"), for: user)
        guard message.role == .assistant else {
            throw APIError.invalid("Only an answer can start a branch: choose the answer after which the new conversation should go its own way.")
        }
        guard message.status != .streaming else {
            throw APIError(
                .conflict, code: "still_streaming",
                message: "This answer is still being written. Wait for it to finish (or stop it), then branch from it.")
        }
        if try await store.isUnkept(conversationID: conversation.id) {
            throw APIError(
                .conflict, code: "temporary_chat",
                message: "A temporary chat cannot be branched: it is deleted when you leave it. Start a normal conversation to keep one.")
        }
        let thread = try await store.messages(conversationID: conversation.id).filter { !$0.superseded }
        guard let end = thread.firstIndex(where: { $0.id == message.id }) else {
            throw APIError(
                .conflict, code: "not_in_thread",
                message: "This answer is an earlier version that the conversation no longer shows. Show it (its ‹ › arrows), then branch from it.")
        }
        var (branch, messages) = Self.copy(of: conversation, thread: thread[...end].filter { $0.status != .streaming })
        try await store.createConversation(branch, messages: messages)
        // The link back to the original, and the answers' thinking (which the shared insert does not write).
        try await store.recordBranch(conversationID: branch.id, from: conversation.id, copies: messages)
        branch.branchedFrom = conversation.id
        // The branch goes on with the original's sampling settings, and stays in its project, with its instructions.
        if let parameters = conversation.parameters {
            try await store.setConversationParameters(id: branch.id, parameters: parameters)
            branch.parameters = parameters
        }
        if let projectID = conversation.projectID {
            try await store.moveConversation(id: branch.id, toProject: projectID)
            branch.projectID = projectID
        }
        var resource = ConversationResource(branch)
        resource.branchedFrom = .init(conversationID: conversation.id, title: conversation.title)
        return EditedResponse(status: .created, response: resource)
    }

    /// The new conversation and its messages, as they are stored.
    static func copy(of original: Conversation, thread: [Message]) -> (Conversation, [Message]) {
        var branch = Conversation.starting(
            userID: original.userID, title: String("Branch · \(original.title)".prefix(200)), model: original.model,
            systemPrompt: original.systemPrompt)
        let messages = thread.enumerated().map { index, source in
            var message = source
            message.id = Identifier.make()
            message.conversationID = branch.id
            // After the conversation's creation, a millisecond apart: the store reads a thread in this order.
            message.createdAt = branch.createdAt.addingTimeInterval(Double(index + 1) / 1000)
            message.versionGroup = nil
            message.superseded = false
            message.feedback = nil
            message.cost = nil
            return message
        }
        branch.updatedAt = messages.last?.createdAt ?? branch.createdAt
        return (branch, messages)
    }
}
