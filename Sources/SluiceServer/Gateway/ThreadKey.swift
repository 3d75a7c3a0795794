import Crypto
import SluiceCore

/// Names a conversation by what an OpenAI client sends back as its history: SHA-256 over the system prompt and
/// every message's role and text, each length-prefixed so that no two different histories share a key. The
/// gateway marks a conversation with the key of how it ended and continues it when a call's history has that key.
/// A call that names an end user (`user`) has it hashed first, so two end users who happen to send the same
/// history never continue each other's conversation; without one, the key is what it was before end users.
enum ThreadKey {
    static func of(system: String?, messages: [ChatMessage], endUser: String? = nil) -> String {
        var hasher = SHA256()
        func add(_ text: String) {
            withUnsafeBytes(of: UInt64(text.utf8.count).bigEndian) { hasher.update(bufferPointer: $0) }
            var text = text
            text.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        }
        // A system field starts with "-" or "+", so an end user's field ("@…") cannot be mistaken for one.
        if let endUser { add("@" + endUser) }
        add(system == nil ? "-" : "+" + system!)
        for message in messages {
            add(message.role.rawValue)
            add(message.content)
            // Markers no role is named, so that a message's calls cannot be read as the next message; a history
            // without function calls keeps the key it had before them.
            for call in message.toolCalls {
                add("call")
                add(call.id)
                add(call.name)
                add(call.arguments)
            }
            if let id = message.toolCallID {
                add("result")
                add(id)
            }
            // The same for images: a history without them keeps its key.
            for image in message.images {
                add("image")
                add(image.url)
                add(image.detail?.rawValue ?? "")
            }
        }
        return HexDigits.lowercase(hasher.finalize())
    }

    /// The key of the history a client sends next, given the answer as it received it: the call's history, what
    /// it added (its question or its function results) and the answer. The turn stores it with a complete answer
    /// (`ChatTurn.Plan.threadKey`).
    static func afterAnswer(
        system: String?, history: [ChatMessage], added: [ChatMessage], endUser: String? = nil
    ) -> @Sendable (ChatMessage) -> String {
        { answer in
            of(system: system, messages: history + added + [answer], endUser: endUser)
        }
    }
}
