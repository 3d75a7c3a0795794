import Crypto
import SluiceCore

/// Names a conversation by what an OpenAI client sends back as its history: SHA-256 over the system prompt and
/// every message's role and text, each length-prefixed so that no two different histories share a key. The
/// gateway marks a conversation with the key of how it ended and continues it when a call's history has that key.
enum ThreadKey {
    static func of(system: String?, messages: [ChatMessage]) -> String {
        var hasher = SHA256()
        func add(_ text: String) {
            withUnsafeBytes(of: UInt64(text.utf8.count).bigEndian) { hasher.update(bufferPointer: $0) }
            var text = text
            text.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        }
        add(system == nil ? "-" : "+" + system!)
        for message in messages {
            add(message.role.rawValue)
            add(message.content)
        }
        return HexDigits.lowercase(hasher.finalize())
    }
}

/// Marks a gateway conversation, once its answer is complete, with the thread key of the history a client will
/// send next: the call's history, its question and the answer as the client received it.
struct ThreadMark: Sendable {
    let store: any ConversationStore
    let conversationID: String
    let system: String?
    let history: [ChatMessage]
    let question: String

    func mark(answer: String, finishReason: String?) async {
        guard finishReason != "cancelled" else { return }
        let ended = history + [ChatMessage(role: .user, content: question), ChatMessage(role: .assistant, content: answer)]
        // Without the mark the next call starts a new conversation: nothing is lost.
        try? await store.setThreadKey(conversationID: conversationID, threadKey: ThreadKey.of(system: system, messages: ended))
    }
}
