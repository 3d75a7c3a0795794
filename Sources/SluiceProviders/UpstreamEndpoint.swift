import AsyncHTTPClient

/// Where an upstream is and what every request to it carries: the URL of each path under its base, the key in the
/// header the upstream reads it from, and headers the operator added.
///
/// A query in the base URL stays on every path: Azure OpenAI's deployments take
/// `https://NAME.openai.azure.com/openai/deployments/DEPLOYMENT?api-version=2024-10-21`, its key in `api-key`
/// (`keyHeader`). Other gateways want headers of their own — OpenRouter's `HTTP-Referer` and `X-Title`, Anthropic's
/// `anthropic-beta` — which `headers` carries on every call (chat, text completions, embeddings, rerank, the ready
/// check).
public struct UpstreamEndpoint: Sendable, Equatable {
    /// The base without its query and without a trailing slash, such as `http://127.0.0.1:8081/v1`.
    public let base: String
    /// The base's query (`api-version=…`), without its `?`; `nil` without one.
    public let query: String?
    let apiKey: String?
    /// The header the key goes in, as it is (`api-key`, `x-api-key`); `nil` for `Authorization: Bearer KEY`.
    let keyHeader: String?
    /// The operator's headers, in their order.
    let headers: [Header]

    public struct Header: Sendable, Equatable {
        public let name: String
        public let value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public init(baseURL: String, apiKey: String?, keyHeader: String? = nil, headers: [Header] = []) {
        var base = baseURL
        var query: String?
        if let mark = base.firstIndex(of: "?") {
            query = String(base[base.index(after: mark)...])
            base = String(base[..<mark])
            if query?.isEmpty == true { query = nil }
        }
        while base.hasSuffix("/") { base.removeLast() }
        self.base = base
        self.query = query
        self.apiKey = apiKey
        self.keyHeader = keyHeader
        self.headers = headers
    }

    /// The URL of `path` (such as `chat/completions`) under the base, with the base's query.
    public func url(_ path: String) -> String {
        base + "/" + path + (query.map { "?" + $0 } ?? "")
    }

    /// Where the ready check asks for the models: `<base>/models`, except on an Azure OpenAI deployment URL, which has
    /// no such path — its resource's `/openai/models` (with the `api-version`) answers instead.
    public var modelsURL: String {
        guard let deployments = base.range(of: "/openai/deployments/") else { return url("models") }
        return base[..<deployments.lowerBound] + "/openai/models" + (query.map { "?" + $0 } ?? "")
    }

    /// Adds the key, in its header, and the operator's headers.
    func authorize(_ request: inout HTTPClientRequest) {
        if let apiKey {
            if let keyHeader {
                request.headers.add(name: keyHeader, value: apiKey)
            } else {
                request.headers.add(name: "Authorization", value: "Bearer \(apiKey)")
            }
        }
        for header in headers { request.headers.replaceOrAdd(name: header.name, value: header.value) }
    }
}
