import Foundation
import HTTPTypes
import Hummingbird
import SluiceCore

/// `POST /v1/rerank` (Cohere's and Jina's rerank API, as vLLM and llama-server serve it), simulated: a document's
/// relevance is the share of the query's words it contains, so tests can tell the order in advance; `top_n` keeps the
/// best, `return_documents` adds their text; `usage` counts a token per word, the query once per document. The
/// failing scenarios answer with their errors, as chat calls do.
enum RerankMode {
    static func rerank(_ request: Request, counter: AttemptCounter, tally: StreamTally) async throws -> Response {
        let buffer = try await request.body.collect(upTo: 16 << 20)
        guard case .object(let members)? = try? JSONValue(parsing: buffer.readableBytesView),
            case .string(let query)? = members.first(where: { $0.key == "query" })?.value,
            case .array(let items)? = members.first(where: { $0.key == "documents" })?.value
        else {
            return .openAIError(.badRequest, "The request body is not a valid rerank request.", type: "invalid_request_error")
        }
        let field = { (name: String) in members.first { $0.key == name }?.value }
        let model: String? = if case .string(let name)? = field("model") { name } else { nil }
        let documents = items.map { item -> String in
            switch item {
            case .string(let text): return text
            case .object(let parts): if case .string(let text)? = parts.first(where: { $0.key == "text" })?.value { return text }
            default: break
            }
            return ""
        }
        let header = { (name: String) in request.headers[HTTPField.Name(name)!] }
        guard let scenario = await Scenario.resolve(
            header: header("X-Sluice-Scenario"), model: model, messages: [("user", query)], counter: counter)
        else {
            return .openAIError(.badRequest, "Unknown simulator scenario.", type: "invalid_request_error")
        }
        if let failure = Simulator.failure(for: scenario, header: header) { return failure }
        tally.record(.reranked)
        let asked = Self.words(query)
        var scored: [(index: Int, score: Double, text: String)] = []
        for (index, text) in documents.enumerated() {
            let shared = Double(asked.intersection(Self.words(text)).count)
            scored.append((index, asked.isEmpty ? 0 : shared / Double(asked.count), text))
        }
        scored.sort { $0.score != $1.score ? $0.score > $1.score : $0.index < $1.index }
        var topN = scored.count
        if case .number(let text)? = field("top_n"), let n = Int(text) { topN = min(n, scored.count) }
        let withText = field("return_documents") == .bool(true)
        let results = scored.prefix(topN).map { item in
            "{\"index\":\(item.index),\"relevance_score\":\(item.score)"
                + (withText ? ",\"document\":{\"text\":\(JSONText.quote(item.text))}" : "") + "}"
        }
        let queryTokens = query.split(whereSeparator: \.isWhitespace).count
        let tokens = documents.reduce(0) { $0 + queryTokens + $1.split(whereSeparator: \.isWhitespace).count }
        return .json(
            .ok,
            "{\"id\":\"rerank-sim\",\"model\":\(JSONText.quote(model ?? "sim")),\"results\":[\(results.joined(separator: ","))],"
                + "\"usage\":{\"prompt_tokens\":\(tokens),\"total_tokens\":\(tokens)}}")
    }

    /// A text's words, lower-cased, without punctuation.
    static func words(_ text: String) -> Set<String> {
        Set(text.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init))
    }
}
