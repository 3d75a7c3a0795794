import Foundation
import SluiceCore

/// Which model writes conversations' titles (`--title-model`): each conversation's own (Open WebUI's default task
/// model), one named model (a small or local one, as ChatGPT names chats with a small model), or none.
public enum TitleModel: Sendable, Equatable {
    case conversationModel
    case named(String)
    case off

    /// `--title-model`'s value: `off` (or `none`), a model's name, or nothing for the conversation's own model.
    public init(setting: String?) {
        switch setting?.trimmingCharacters(in: .whitespaces) {
        case nil, "": self = .conversationModel
        case let value? where ["off", "none"].contains(value.lowercased()): self = .off
        case let value?: self = .named(value)
        }
    }

    /// The model that titles a conversation with `model`; `nil` when titles are off.
    func model(for conversationModel: String) -> String? {
        switch self {
        case .conversationModel: conversationModel
        case .named(let name): name
        case .off: nil
        }
    }
}

/// What a title is written from and what of a model's answer is kept as one.
///
/// The model reads the conversation's first question and answer (at most `excerptCharacters` of each; never the system
/// prompt, so a title cannot quote it) and is asked for a few words. A model whose upstream continues a final assistant
/// message (`ModelCatalog.continuesPrefill`: llama-server, Anthropic) is given the start `Title:` to continue — the local
/// SmolLM2 answers the question itself otherwise (measured: "You can use `my_list[::-1]` to reverse a list in Python."
/// for a chat about reversing lists; with the start, "How to reverse a list in Python").
enum TitlePrompt {
    /// The most of the question and of the answer the model reads, in characters.
    static let excerptCharacters = 1_200
    /// The output a title may use: a few words, with room for a model's habit of saying more on later lines.
    static let maxTokens = 32
    /// The start a model that continues a prefill is given.
    static let start = "Title:"

    /// The request for a title of the exchange `question` → `answer` (`nil`: not answered yet).
    static func request(model: String, question: String, answer: String?, prefill: Bool, temperature: Double?) -> ChatRequest {
        var transcript = "User: " + excerpt(question)
        if let answer, !answer.isEmpty { transcript += "\nAssistant: " + excerpt(answer) }
        var messages = [ChatMessage(role: .user, content: """
            Here is a conversation.

            \(transcript)

            Give this conversation a short title of 3 to 6 words, in the language of the conversation. \
            Answer with the title only.
            """)]
        if prefill { messages.append(ChatMessage(role: .assistant, content: start)) }
        return ChatRequest(model: model, messages: messages, temperature: temperature, maxTokens: maxTokens)
    }

    /// The first `excerptCharacters` characters, cut at a word, marked when cut.
    static func excerpt(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.count > excerptCharacters else { return trimmed }
        let cut = trimmed.prefix(excerptCharacters)
        return String(cut.lastIndex(where: \.isWhitespace).map { cut[..<$0] } ?? cut) + " …"
    }

    /// The title in a model's answer, or `nil` when it has none: a JSON `{"title": …}` as some models answer, or else
    /// the first line with words, without a `Title:` label, Markdown marks, quotes or a closing full stop, its white
    /// space collapsed, cut at a word near 60 characters (as a first message's title is).
    static func title(in answer: String) -> String? {
        var text = answer.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("{"), let data = text.data(using: .utf8),
           let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let title = object["title"] as? String
        {
            text = title
        }
        guard let line = text.split(whereSeparator: \.isNewline).lazy.map(clean).first(where: { !$0.isEmpty }) else { return nil }
        let title = MessageRoutes.title(from: line)
        return title.contains(where: { $0.isLetter || $0.isNumber || $0.unicodeScalars.first?.properties.isEmojiPresentation == true })
            ? title : nil
    }

    /// One line without what is not the title.
    private static func clean<Line: StringProtocol>(_ line: Line) -> String {
        var text = String(line).trimmingCharacters(in: .whitespaces)
        // Markdown around or before it: a heading's #, emphasis, code marks.
        text = text.trimmingCharacters(in: CharacterSet(charactersIn: "#*_`>").union(.whitespaces))
        // A label the model repeated or wrote itself ("Title:", "**Title:**", "Conversation title -").
        if let label = text.range(of: #"^(conversation\s+)?title\s*[:\-–]\s*"#, options: [.regularExpression, .caseInsensitive]) {
            text = String(text[label.upperBound...])
            text = text.trimmingCharacters(in: CharacterSet(charactersIn: "#*_`").union(.whitespaces))
        }
        // Quotes around it.
        let quotes = CharacterSet(charactersIn: "\"'“”‘’«»「」")
        text = text.trimmingCharacters(in: quotes.union(.whitespaces))
        // A closing full stop or colon (a question mark or an exclamation stays: "Why Is the Sky Blue?").
        while let last = text.last, ".:;,".contains(last) { text.removeLast() }
        return text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}
