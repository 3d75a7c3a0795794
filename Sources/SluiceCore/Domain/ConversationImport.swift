import Foundation

/// Conversations read from an export, to be stored as the importing user's: ChatGPT's `conversations.json` (from
/// ChatGPT's "Export data"; each conversation a tree of messages whose shown branch ends at `current_node`) or
/// Sluice's own JSON export (one conversation, or a list of them), as Open WebUI imports ChatGPT's history.
public struct ImportedConversation: Sendable, Equatable {
    public struct Turn: Sendable, Equatable {
        public var role: MessageRole
        public var content: String
        /// The model that wrote an answer, as the export names it (kept for display; later turns use a served model).
        public var model: String?
        public var createdAt: Date?
        public var attachments: [Attachment]
        /// A question's images (Sluice's export keeps them; ChatGPT's names files it does not include).
        public var images: [ImageInput] = []

        public init(
            role: MessageRole, content: String, model: String?, createdAt: Date?, attachments: [Attachment], images: [ImageInput] = []
        ) {
            self.role = role
            self.content = content
            self.model = model
            self.createdAt = createdAt
            self.attachments = attachments
            self.images = images
        }
    }

    public var title: String
    public var systemPrompt: String?
    public var createdAt: Date?
    public var turns: [Turn]
    /// A Sluice export's `parameters` (its sampling settings) as written; the importer checks them.
    public var parameters: JSONValue?

    public init(title: String, systemPrompt: String?, createdAt: Date?, turns: [Turn]) {
        self.title = title
        self.systemPrompt = systemPrompt
        self.createdAt = createdAt
        self.turns = turns
    }

    /// Why a file is not an export Sluice reads.
    public struct Unreadable: Error, Equatable {
        public let reason: String
    }

    /// The conversations of `json`: a ChatGPT export (a list of conversations with `mapping`), Sluice's export of
    /// one conversation (with `messages`) or a list of those. Conversations with nothing to keep (no user or assistant
    /// text) are left out.
    public static func read(_ json: JSONValue) throws(Unreadable) -> [ImportedConversation] {
        let items: [JSONValue]
        switch json {
        case .array(let list): items = list
        case .object: items = [json]
        default: throw Unreadable(reason: "the file is not a JSON object or list of conversations")
        }
        var conversations: [ImportedConversation] = []
        for item in items {
            guard case .object = item else { throw Unreadable(reason: "an item of the list is not a conversation object") }
            if item["mapping"] != nil {
                if let conversation = chatGPT(item) { conversations.append(conversation) }
            } else if case .array? = item["messages"] {
                if let conversation = sluice(item) { conversations.append(conversation) }
            } else {
                throw Unreadable(
                    reason: "a conversation has neither ChatGPT's \"mapping\" nor Sluice's \"messages\": this is not ChatGPT's conversations.json or a Sluice JSON export")
            }
        }
        return conversations
    }

    /// One ChatGPT conversation: the branch that ends at `current_node` (else at the newest message), its visible
    /// user and assistant text; a visible system message becomes the instructions.
    static func chatGPT(_ item: JSONValue) -> ImportedConversation? {
        guard case .object(let members)? = item["mapping"] else { return nil }
        var nodes: [String: JSONValue] = [:]
        for member in members { nodes[member.key] = member.value }
        var current = item["current_node"]?.string
        if current == nil || nodes[current!] == nil {
            // No current node: the leaf written last.
            current = nodes.filter { ($0.value["children"]?.array ?? []).isEmpty }
                .max { ($0.value["message"]?["create_time"]?.double ?? 0) < ($1.value["message"]?["create_time"]?.double ?? 0) }?.key
        }
        var branch: [JSONValue] = []
        var seen: Set<String> = []
        while let id = current, let node = nodes[id], seen.insert(id).inserted {
            if let message = node["message"], case .object = message { branch.append(message) }
            current = node["parent"]?.string
        }
        var conversation = ImportedConversation(
            title: item["title"]?.string ?? "", systemPrompt: nil, createdAt: item["create_time"]?.double.map(Date.init(timeIntervalSince1970:)),
            turns: [])
        for message in branch.reversed() {
            if message["metadata"]?["is_visually_hidden_from_conversation"] == .bool(true) { continue }
            guard let role = message["author"]?["role"]?.string, let content = message["content"] else { continue }
            let type = content["content_type"]?.string
            guard type == "text" || type == "multimodal_text" else { continue }
            // Text parts, and what was said in a voice conversation (its transcription); images and files are left out.
            let text = (content["parts"]?.array ?? []).compactMap { part in
                part.string ?? (part["content_type"]?.string == "audio_transcription" ? part["text"]?.string : nil)
            }.joined(separator: "\n\n")
                .trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else { continue }
            let created = message["create_time"]?.double.map(Date.init(timeIntervalSince1970:))
            switch role {
            case "user", "assistant":
                conversation.turns.append(Turn(
                    role: role == "user" ? .user : .assistant, content: text, model: message["metadata"]?["model_slug"]?.string,
                    createdAt: created, attachments: []))
            case "system" where conversation.systemPrompt == nil && conversation.turns.isEmpty:
                conversation.systemPrompt = text
            default:
                continue
            }
        }
        return conversation.turns.isEmpty ? nil : conversation
    }

    /// Sluice's export of one conversation (`GET /api/conversations/{id}`): its user and assistant messages with text,
    /// their files, the instructions.
    static func sluice(_ item: JSONValue) -> ImportedConversation? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let date = { (value: JSONValue?) -> Date? in
            guard let text = value?.string else { return nil }
            return formatter.date(from: text) ?? ISO8601DateFormatter().date(from: text)
        }
        var conversation = ImportedConversation(
            title: item["title"]?.string ?? "", systemPrompt: item["system_prompt"]?.string.flatMap { $0.isEmpty ? nil : $0 },
            createdAt: date(item["created_at"]), turns: [])
        conversation.parameters = item["parameters"]
        for message in item["messages"]?.array ?? [] {
            // Images are checked as a sent message's are; one that is not an image is left out.
            let images = message["role"]?.string == "user" ? (message["images"]?.array ?? []).compactMap { image -> ImageInput? in
                guard let url = image["url"]?.string else { return nil }
                return try? ImageInput.parse(url: url, detail: image["detail"]?.string)
            } : []
            guard let role = message["role"]?.string, role == "user" || role == "assistant",
                let content = message["content"]?.string, !content.isEmpty || !images.isEmpty
            else { continue }
            var attachments: [Attachment] = []
            for file in message["attachments"]?.array ?? [] {
                if let name = file["name"]?.string, let text = file["text"]?.string {
                    attachments.append(Attachment(name: name, text: text))
                }
            }
            conversation.turns.append(Turn(
                role: role == "user" ? .user : .assistant, content: content, model: message["model"]?.string,
                createdAt: date(message["created_at"]), attachments: attachments, images: images))
        }
        return conversation.turns.isEmpty ? nil : conversation
    }
}

extension JSONValue {
    /// The text of a string; `nil` for anything else.
    public var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The items of an array; `nil` for anything else.
    public var array: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }

    /// A number's value; `nil` for anything else.
    public var double: Double? {
        if case .number(let text) = self { return Double(text) }
        return nil
    }
}
