import Foundation
import SluiceProviders

/// A model's (or a deployment's) `api_key_header` and `headers` in the models file, checked and resolved: what
/// `UpstreamEndpoint` sends on each request to that upstream.
///
/// ```yaml
///   - name: gpt-4o
///     kind: openai
///     base_url: https://NAME.openai.azure.com/openai/deployments/gpt-4o?api-version=2024-10-21
///     api_key_env: AZURE_OPENAI_API_KEY
///     api_key_header: api-key      # Azure reads its key there, not from Authorization: Bearer
///   - name: claude-router
///     kind: openai
///     base_url: https://openrouter.ai/api/v1
///     headers:                     # sent on every request to this upstream
///       HTTP-Referer: https://chat.example.com
///       X-Title: Example Chat
///       X-Team-Token: ${TEAM_TOKEN}  # ${NAME}: read from the environment, and kept out of answers as a key is
/// ```
struct UpstreamHeaders: Equatable {
    var keyHeader: String?
    var headers: [UpstreamEndpoint.Header] = []
    /// The values read from the environment: secrets, redacted from answers as the keys are.
    var secrets: [String] = []

    /// Headers Sluice writes itself: an operator's would break the request.
    static let reserved: Set<String> = ["content-type", "content-length", "accept", "host", "transfer-encoding", "connection"]

    /// Checks `keyHeader` and `headers` (names are HTTP tokens, none of `reserved`; `${NAME}` read from `environment`,
    /// which must have it). `where_` names the model for the errors.
    init(keyHeader: String?, headers: [String: String]?, where where_: String, environment: [String: String]) throws {
        if let keyHeader {
            guard Self.isToken(keyHeader), !Self.reserved.contains(keyHeader.lowercased()) else {
                throw SettingError("\(where_): api_key_header '\(keyHeader)' is not a header name Sluice can send the key in (such as api-key)")
            }
            self.keyHeader = keyHeader
        }
        // Sorted: a YAML mapping has no order, and the same file should always send the same request.
        for (name, written) in (headers ?? [:]).sorted(by: { $0.key.lowercased() < $1.key.lowercased() }) {
            guard Self.isToken(name), !Self.reserved.contains(name.lowercased()) else {
                throw SettingError("\(where_): headers: '\(name)' is not a header Sluice can send (Sluice writes \(Self.reserved.sorted().joined(separator: ", ")) itself)")
            }
            var value = written
            if written.hasPrefix("${"), written.hasSuffix("}"), written.count > 3 {
                let variable = String(written.dropFirst(2).dropLast())
                guard let read = environment[variable], !read.isEmpty else {
                    throw SettingError("\(where_): headers: \(name) reads the environment variable \(variable), which is not set")
                }
                value = read
                secrets.append(read)
            }
            guard !value.contains(where: { $0 == "\r" || $0 == "\n" }) else {
                throw SettingError("\(where_): headers: the value of \(name) spans lines; a header's value is one line")
            }
            self.headers.append(UpstreamEndpoint.Header(name: name, value: value))
        }
    }

    init() {}

    /// A deployment's own, else its model's (each of the two, apart).
    func overridden(by own: UpstreamHeaders) -> UpstreamHeaders {
        var merged = self
        if own.keyHeader != nil { merged.keyHeader = own.keyHeader }
        if !own.headers.isEmpty { merged.headers = own.headers }
        merged.secrets += own.secrets
        return merged
    }

    /// RFC 9110's token: the characters a header's name may have.
    static func isToken(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "!#$%&'*+-.^_`|~".unicodeScalars.contains(scalar))
        }
    }
}
