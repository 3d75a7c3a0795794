import SluiceCore

/// Tokens of many texts for a gateway call that is not a chat (embeddings, text completions), counted with the model
/// family's tokenizer, eight at a time: the local model's counter asks llama-server over HTTP for each.
enum TextTokenCount {
    /// Each text's tokens, in order; a tokenizer that does not answer is a 502 that says nothing was sent.
    static func each(_ texts: [String], with counter: any PromptCounter) async throws -> [Int] {
        do {
            return try await withThrowingTaskGroup(of: (Int, Int).self) { group in
                var counts = Array(repeating: 0, count: texts.count)
                var pending = texts.enumerated()[...]
                var running = 0
                while let (index, text) = pending.popFirst() {
                    group.addTask { (index, try await counter.textTokens(text)) }
                    running += 1
                    if running >= 8, let (done, count) = try await group.next() {
                        counts[done] = count
                        running -= 1
                    }
                }
                while let (done, count) = try await group.next() { counts[done] = count }
                return counts
            }
        } catch {
            throw APIError(
                .badGateway, code: "upstream_unreachable",
                message: "Sluice could not count the input's tokens because the model's tokenizer did not answer, so it did not send it. Try again in a moment.")
        }
    }
}

/// The text of each answer of a text completion (one per prompt and `n`), kept apart as the pieces come: each is
/// counted on its own, since the answers' pieces run together, interleaved as they stream, tokenize otherwise.
struct AnswerTexts: Sendable {
    private var byChoice: [Int: String] = [:]

    init(_ first: TextCompletionChunk) { add(first) }

    mutating func add(_ chunk: TextCompletionChunk) {
        for piece in chunk.pieces where !piece.text.isEmpty { byChoice[piece.choice, default: ""] += piece.text }
    }

    /// Whether no answer has any text yet.
    var isEmpty: Bool { byChoice.isEmpty }

    /// The tokens of all the answers, each counted on its own.
    func tokens(with counter: any PromptCounter) async throws -> Int {
        guard byChoice.count > 1 else {
            guard let only = byChoice.first?.value else { return 0 }
            return try await counter.textTokens(only)
        }
        return try await TextTokenCount.each(Array(byChoice.values), with: counter).reduce(0, +)
    }
}
