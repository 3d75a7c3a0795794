import Foundation
import SluiceCore

/// Summarises with a chat model through a provider: the previous summary and the new messages in, an
/// extended summary out (temperature 0, so the same conversation folds the same way).
public struct ProviderSummarizer: ConversationSummarizer {
    let provider: any ChatProvider
    let model: String
    /// The longest summary asked for, in tokens (`max_tokens`).
    var maxTokens = 200

    public init(provider: any ChatProvider, model: String, maxTokens: Int = 200) {
        self.provider = provider
        self.model = model
        self.maxTokens = maxTokens
    }

    static let instruction = """
        You keep a running summary of a conversation between a user and an assistant. Merge the summary so far \
        with the new messages into one updated summary. Keep names, numbers, decisions, preferences, code \
        identifiers and open questions; drop greetings and repetition. Write plain sentences in the language of \
        the conversation, at most 150 words. Answer with the summary only.
        """

    /// The summary is wanted but came back empty.
    struct EmptySummary: Error {}

    public func summarize(previous: String?, messages: [ChatMessage]) async throws -> String {
        var transcript = ""
        if let previous, !previous.isEmpty { transcript += "Summary so far:\n\(previous)\n\n" }
        transcript += "New messages:\n"
        for message in messages { transcript += "\(message.role.rawValue): \(message.content)\n" }
        let request = ChatRequest(
            model: model,
            messages: [ChatMessage(role: .system, content: Self.instruction), ChatMessage(role: .user, content: transcript)],
            temperature: 0, maxTokens: maxTokens)
        var summary = ""
        for try await event in provider.streamChat(request) {
            if case .delta(let text) = event { summary += text }
        }
        let cleaned = Self.withoutRepeats(summary)
        guard !cleaned.isEmpty else { throw EmptySummary() }
        return cleaned
    }

    /// Small models loop ("Don't forget a camera. Don't forget a camera. …"): every sentence after its first
    /// occurrence is dropped, so a loop does not fill the summary and every later request.
    static func withoutRepeats(_ text: String) -> String {
        var seen = Set<String>()
        var kept: [String] = []
        var sentence = ""
        func flush() {
            let trimmed = sentence.trimmingCharacters(in: .whitespacesAndNewlines)
            sentence = ""
            guard !trimmed.isEmpty, seen.insert(trimmed.lowercased()).inserted else { return }
            kept.append(trimmed)
        }
        // A sentence ends at . ! ? 。 ！ ？ followed by white space (or the end), or at a line break.
        var previousEnds = false
        for character in text {
            if previousEnds && character.isWhitespace || character.isNewline {
                flush()
                previousEnds = false
                continue
            }
            sentence.append(character)
            previousEnds = ".!?。！？".contains(character)
        }
        flush()
        return kept.joined(separator: " ")
    }
}
