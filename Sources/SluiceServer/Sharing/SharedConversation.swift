import Foundation
import SluiceCore

/// The copy of a conversation a shared link shows (`SharedLink.snapshot`): its title and the thread's questions and
/// answers as they were when it was shared — what ChatGPT's shared links show. Left out: the instructions (the
/// conversation's and the user's own), thinking, usage and cost, earlier versions of an answer or a question,
/// questions the guard refused, function calls and results, an answer still being written, and the contents of
/// files and images (their names and counts stay, so a reader knows something was there).
struct SharedConversation: Codable, Equatable {
    struct Message: Codable, Equatable {
        let role: String
        let content: String
        /// The model that answered (answers only).
        let model: String?
        let createdAt: Date
        /// The names of a question's files.
        let attachments: [String]?
        /// How many images a question showed.
        let images: Int?
    }

    let title: String
    let sharedAt: Date
    let messages: [Message]

    init(title: String, sharedAt: Date, thread: [SluiceCore.Message]) {
        self.title = title
        self.sharedAt = sharedAt
        messages = thread.compactMap { message in
            guard !message.superseded, message.role == .user || message.role == .assistant else { return nil }
            guard message.status != .rejected, message.status != .streaming else { return nil }
            guard !message.content.isEmpty || !message.attachments.isEmpty || !message.images.isEmpty else { return nil }
            return Message(
                role: message.role.rawValue, content: message.content,
                model: message.role == .assistant ? message.model : nil, createdAt: message.createdAt,
                attachments: message.attachments.isEmpty ? nil : message.attachments.map(\.name),
                images: message.images.isEmpty ? nil : message.images.count)
        }
    }

    /// As stored and served: the HTTP API's JSON (snake_case, ISO 8601 dates).
    func json() throws -> String {
        String(decoding: try WireJSON.encoder.encode(self), as: UTF8.self)
    }

    /// A stored copy read back.
    init(json: String) throws {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            return try Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        }
        self = try decoder.decode(Self.self, from: Data(json.utf8))
    }

    /// The copy as an import (`ImportRoute.stored`): its questions and answers, each answer with its model's name,
    /// written now (so the conversation is the reader's newest); a question's files are not in the copy, so they do
    /// not come along.
    var asImport: ImportedConversation {
        ImportedConversation(
            title: title, systemPrompt: nil, createdAt: nil,
            turns: messages.map {
                .init(role: MessageRole(rawValue: $0.role) ?? .user, content: $0.content, model: $0.model, createdAt: nil, attachments: [])
            })
    }
}
