import Foundation
import Hummingbird
import NIOCore
import SluiceCore
import SluiceGuard

/// `POST /api/conversations/import`: conversations from ChatGPT's `conversations.json` (its "Export data") or from
/// Sluice's JSON export become the caller's, as Open WebUI imports ChatGPT's history — titles, instructions, the
/// questions and answers of each conversation's shown branch, their times. Nothing goes upstream and nothing is
/// charged. The prompt guard reads each imported question as it reads a file (its rules, no length limit): one it
/// would refuse is kept as `rejected`, so it never goes upstream as context later.
struct ImportRoute {
    let store: any ConversationStore
    let defaultModel: String
    let promptGuard: PromptGuard?

    /// The most one request carries: the web app sends a larger export in parts.
    static let maxBytes = 16 << 20
    /// The most conversations one request imports.
    static let maxConversations = 1000

    func register(on api: RouterGroup<SluiceRequestContext>) {
        api.post("conversations/import", use: importConversations)
    }

    /// What an import made.
    struct Imported: ResponseEncodable {
        let conversations: [ConversationResource]
        let messages: Int
        /// Imported questions the prompt guard would not send (kept, marked `rejected`).
        let notSent: Int
    }

    @Sendable func importConversations(_ request: Request, context: SluiceRequestContext) async throws -> EditedResponse<Imported> {
        let user = try context.requireUser()
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: Self.maxBytes)
        } catch is NIOTooManyBytesError {
            throw APIError(
                .contentTooLarge, code: "too_large",
                message: "The import is over 16 MiB. Send the conversations in parts (the web app's Import does this by itself).")
        }
        let json: JSONValue
        do {
            json = try JSONValue(parsing: body.readableBytesView)
        } catch {
            throw APIError.invalid("The file is not JSON. Import ChatGPT's conversations.json (from its Export data) or a conversation Sluice exported as JSON.")
        }
        let imported: [ImportedConversation]
        do {
            imported = try ImportedConversation.read(json)
        } catch {
            throw APIError.invalid("Sluice cannot import this file: \(error.reason).")
        }
        guard imported.count <= Self.maxConversations else {
            throw APIError.invalid("The import has \(imported.count) conversations; send at most \(Self.maxConversations) at a time.")
        }
        var resources: [ConversationResource] = []
        var messageCount = 0
        var notSent = 0
        for source in imported {
            let (conversation, messages) = stored(source, for: user)
            try await store.createConversation(conversation, messages: messages)
            if conversation.parameters != nil {
                try await store.setConversationParameters(id: conversation.id, parameters: conversation.parameters)
            }
            resources.append(ConversationResource(conversation))
            messageCount += messages.count
            notSent += messages.filter { $0.status == .rejected }.count
        }
        return EditedResponse(status: .created, response: Imported(conversations: resources, messages: messageCount, notSent: notSent))
    }

    /// The conversation and its messages as they are stored: the caller's, on the caller's default model (the export's
    /// models may not be served here; each answer keeps the name of the model that wrote it), in their order.
    func stored(_ source: ImportedConversation, for user: User) -> (Conversation, [Message]) {
        let title = source.title.trimmingCharacters(in: .whitespacesAndNewlines)
        var conversation = Conversation.starting(
            userID: user.id, title: title.isEmpty ? "Imported conversation" : String(title.prefix(200)),
            model: user.defaultModel(defaultModel), systemPrompt: source.systemPrompt)
        // The export's sampling settings, when they are ones Sluice keeps (a file edited by hand may have others).
        conversation.parameters = try? ConversationParametersField.parse(source.parameters)
        // Times as exported, each message after the one before (the thread is read in that order).
        var clock = source.createdAt ?? source.turns.first?.createdAt ?? conversation.createdAt
        conversation.createdAt = clock
        var messages: [Message] = []
        for turn in source.turns {
            let at = max(turn.createdAt ?? clock, messages.isEmpty ? clock : clock.addingTimeInterval(0.001))
            clock = at
            var message = Message(
                id: Identifier.make(), conversationID: conversation.id, role: turn.role, content: turn.content,
                status: .complete, model: turn.role == .assistant ? turn.model : nil, createdAt: at)
            message.attachments = turn.attachments
            message.images = turn.images
            if turn.role == .user, let promptGuard {
                let verdict = ([turn.content] + turn.attachments.map(\.text)).lazy.map(promptGuard.checkAttachment)
                    .first { $0.rejection != nil }
                if let verdict, case .injection(_, _, let description, _)? = verdict.rejection {
                    message.status = .rejected
                    message.errorCode = verdict.ruleID
                    message.error = "Imported, but never sent to the model: it \(description), which Sluice blocks to keep the assistant safe."
                }
            }
            messages.append(message)
        }
        conversation.updatedAt = max(clock, conversation.createdAt)
        return (conversation, messages)
    }
}
