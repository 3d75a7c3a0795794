/// What a user's memories add to a web conversation's system prompt, and what a message asks to be remembered or
/// forgotten.
public enum MemoryPrompt {
    /// The line before the list, which tells the model what the list is and how to use it.
    public static let heading =
        "Saved memories: things the user asked you to remember across conversations. Use them when they help the answer; do not mention them unless asked."

    /// The block for `memories`' contents (newest first, as the store lists them): as many of the newest as fit in
    /// `budget` characters (`nil`: all), listed oldest first so that the list reads in the order they were saved;
    /// `nil` when there are none or none fit.
    public static func text(_ memories: [String], budget: Int?) -> String? {
        var used = heading.count
        var kept: [String] = []
        for content in memories {
            let line = "- " + content
            if let budget, used + 1 + line.count > budget { break }
            used += 1 + line.count
            kept.append(line)
        }
        guard !kept.isEmpty else { return nil }
        return ([heading] + kept.reversed()).joined(separator: "\n")
    }

    /// The block for all of `memories`' contents (newest first) when they do not all fit in `budget`: the ones that
    /// share the most words with `question` first (BM25 over the memories, as a project's excerpts are picked), then
    /// the newest, as many as fit; listed oldest first. Without a question, or one with no words that say anything,
    /// the newest (`text(_:budget:)`).
    public static func text(_ memories: [String], budget: Int, question: String?) -> String? {
        let query = question.map(ProjectExcerpts.terms(in:)) ?? []
        guard !query.isEmpty else { return text(memories, budget: budget) }
        let scores = BM25(memories.map(ProjectExcerpts.terms(in:))).scores(for: query)
        let ranked = memories.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
        var used = heading.count
        var chosen: [Int] = []
        for index in ranked where used + 3 + memories[index].count <= budget {
            used += 3 + memories[index].count
            chosen.append(index)
        }
        guard !chosen.isEmpty else { return nil }
        return ([heading] + chosen.sorted(by: >).map { "- " + memories[$0] }).joined(separator: "\n")
    }

    /// The fact a web message asks Sluice to remember, as ChatGPT saves one when told "Remember that …": the first
    /// sentence of a message that begins "Remember that", "Remember:", "Remember,", "Please remember that" or
    /// "Don't forget that", without those words and with its first letter in upper case. `nil` when the message does
    /// not begin so, or its first sentence asks something ("Remember that function from before?").
    public static func fact(in message: String) -> String? {
        firstSentence(of: message, after: rememberLeads)
    }

    /// What a web message asks Sluice to forget, as ChatGPT forgets when told "Forget that …": the first sentence of a
    /// message that begins "Forget that", "Forget:" or "Please forget that", read as `fact(in:)` reads one; the
    /// memories it names are those `forgets(_:phrase:)` matches.
    public static func forgetting(in message: String) -> String? {
        firstSentence(of: message, after: forgetLeads)
    }

    /// Whether `memory` is one that forgetting `phrase` removes: the one holds the other, in lower case, with its
    /// spaces collapsed, curly apostrophes straight and its last `.`/`!` gone ("I live in Porto" forgets "I live in
    /// Porto." and "I live in Porto with my wife."). A phrase under 3 characters matches nothing.
    public static func forgets(_ memory: String, phrase: String) -> Bool {
        let memory = comparable(memory)
        let phrase = comparable(phrase)
        guard phrase.count >= 3 else { return false }
        return memory.contains(phrase) || phrase.contains(memory)
    }

    private static func comparable(_ text: String) -> String {
        var words = text.lowercased().replacingOccurrences(of: "’", with: "'").split(whereSeparator: \.isWhitespace).joined(separator: " ")
        while let last = words.last, ".!".contains(last) { words.removeLast() }
        return words
    }

    private static func firstSentence(of message: String, after leads: [String]) -> String? {
        let text = message.trimmingCharacters(in: .whitespacesAndNewlines)
        let lowered = text.lowercased()
        guard let lead = leads.first(where: { lowered.hasPrefix($0) }) else { return nil }
        var rest = Substring(text.dropFirst(lead.count)).drop(while: { $0.isWhitespace })
        if let end = sentenceEnd(in: rest) { rest = rest[..<end] }
        if let line = rest.firstIndex(where: \.isNewline) { rest = rest[..<line] }
        let sentence = rest.trimmingCharacters(in: .whitespaces)
        guard sentence.count >= 2, !sentence.hasSuffix("?"), sentence.count <= Memory.maxContentLength else { return nil }
        return sentence.prefix(1).uppercased() + sentence.dropFirst()
    }

    private static let rememberLeads = [
        "remember that ", "remember: ", "remember, ", "please remember that ", "please remember: ",
        "don't forget that ", "don’t forget that ", "do not forget that ",
    ]

    private static let forgetLeads = ["forget that ", "forget: ", "please forget that ", "please forget: "]

    /// Just after the first `.`, `!` or `?` that a space or a line's end follows.
    private static func sentenceEnd(in text: Substring) -> Substring.Index? {
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(after: index)
            if ".!?".contains(text[index]), next == text.endIndex || text[next].isWhitespace { return next }
            index = next
        }
        return nil
    }
}
