import HTTPTypes
import Hummingbird
import SluiceCore

/// A gateway call's tags (`UsageTags`), as LiteLLM takes them: a body's `metadata.tags` — a list, or the text
/// `"checkout,prod"` that OpenAI's SDKs allow in `metadata` (strings by key) — and the `x-sluice-tags` header (or
/// LiteLLM's `x-litellm-tags`), comma-separated, which every API of the gateway takes.
enum CallTags {
    /// The headers that carry tags.
    static let headers = [HTTPField.Name("x-sluice-tags")!, HTTPField.Name("x-litellm-tags")!]

    /// A body's `metadata`, of which only `tags` is read; its other keys, whatever they hold, are the caller's.
    struct Metadata: Decodable {
        let tags: [String]?

        private enum CodingKeys: String, CodingKey { case tags }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            if let text = try? container.decodeIfPresent(String.self, forKey: .tags) {
                tags = UsageTags.split(text)
            } else {
                tags = try container.decodeIfPresent([String].self, forKey: .tags)
            }
        }
    }

    /// The body's tags and the headers', each once, checked: a 400 naming the rule when one breaks it.
    static func of(_ call: GatewayCall, request: Request) throws -> [String] {
        try checked(call.tags, request: request)
    }

    /// The headers' tags alone (embeddings, rerank and text completions take no `metadata`).
    static func of(_ request: Request) throws -> [String] { try checked([], request: request) }

    private static func checked(_ fromBody: [String], request: Request) throws -> [String] {
        let fromHeaders = headers.flatMap { request.headers[values: $0] }.flatMap(UsageTags.split)
        guard !fromHeaders.isEmpty else { return fromBody }
        guard let tags = UsageTags.checked(fromBody + fromHeaders) else {
            throw ChatCompletionRequest.invalid("The tags in 'x-sluice-tags' must be \(UsageTags.rule).", param: nil)
        }
        return tags
    }
}
