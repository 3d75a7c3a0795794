import SluiceCore

/// A `POST /v1/rerank` request as Cohere's and Jina's rerank APIs define it (and vLLM, llama-server and LiteLLM take
/// it): what Sluice reads — the model, the query, the documents' texts — and the caller's other fields (`top_n`,
/// `return_documents`, …), passed on as they came.
struct RerankCall: Sendable {
    var model: String
    var query: String
    /// Each document's text (a document given as `{"text": …}` too).
    var documents: [String]
    /// Every field but `model`, in its order.
    var passedOn: [JSONValue.Member]

    /// The most documents one call may rank.
    static let maxDocuments = 1000

    /// The body sent upstream: the caller's fields with Sluice's model.
    func body(model: String) -> [UInt8] {
        PassedOnBody.json(model: model, members: passedOn)
    }

    /// The request's fields; a clear 400 for anything else.
    static func parse(_ data: some Collection<UInt8>) throws -> RerankCall {
        let body = try PassThroughBody(data, holding: "'model', 'query' and 'documents'", model: "a reranking model")
        let (members, fields, model) = (body.members, body.fields, body.model)
        guard case .string(let query)? = fields["query"], !query.isEmpty else {
            throw APIError.invalid("'query' is required: the text the documents are ranked against.")
        }
        guard case .array(let items)? = fields["documents"], !items.isEmpty else {
            throw APIError.invalid("'documents' is required: a list of texts (or of {\"text\": …}) to rank.")
        }
        guard items.count <= maxDocuments else {
            throw APIError.invalid("'documents' has \(items.count) items; send at most \(maxDocuments) in one call.")
        }
        let documents = try items.enumerated().map { index, item -> String in
            switch item {
            case .string(let text): return text
            case .object(let parts):
                if case .string(let text)? = parts.first(where: { $0.key == "text" })?.value { return text }
            default: break
            }
            throw APIError.invalid("'documents[\(index)]' must be a text or an object with 'text'.")
        }
        switch fields["top_n"] {
        case nil, .null?: break
        case .number(let text)? where Int(text).map({ $0 >= 1 }) == true: break
        default: throw APIError.invalid("'top_n' must be a whole number from 1.")
        }
        return RerankCall(model: model, query: query, documents: documents, passedOn: members.filter { $0.key != "model" })
    }
}
