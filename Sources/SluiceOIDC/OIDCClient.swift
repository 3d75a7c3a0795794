import AsyncHTTPClient
import Foundation
import JWTKit
import NIOCore
import NIOFoundationCompat

/// Sluice as an OpenID Connect relying party (the authorization code flow with PKCE): it sends the browser to the
/// provider and turns the code that comes back into a verified `OIDCIdentity`. The discovery document is read once and
/// the provider's signing keys again when a token names one not among them (providers rotate their keys), at most once
/// per `keyRereadInterval`.
public actor OIDCClient {
    public nonisolated let settings: OIDCSettings
    private let http: HTTPClient
    private var metadata: ProviderMetadata?
    private var keys: JWTKeyCollection?
    /// The ids of the keys read last: a token that names another is why they are read again.
    private var keyIDs: Set<String> = []
    private var keysReadAt: ContinuousClock.Instant?
    private let keyRereadInterval: Duration
    /// How long a request to the provider may take.
    private static let timeout = TimeAmount.seconds(10)

    public init(settings: OIDCSettings, http: HTTPClient = .shared, keyRereadInterval: Duration = .seconds(5)) {
        self.settings = settings
        self.http = http
        self.keyRereadInterval = keyRereadInterval
    }

    /// Where to send the browser to sign in: the provider's authorization endpoint with the attempt's state, nonce and
    /// PKCE challenge; `loginHint` (a name or address) fills in the provider's form when it takes one.
    public func authorizationURL(for attempt: AuthorizationAttempt, loginHint: String? = nil) async throws -> String {
        let provider = try await providerMetadata()
        var query = [
            ("response_type", "code"), ("client_id", settings.clientID), ("redirect_uri", settings.redirectURI),
            ("scope", settings.scopes.joined(separator: " ")), ("state", attempt.state), ("nonce", attempt.nonce),
            ("code_challenge", attempt.challenge), ("code_challenge_method", "S256"),
        ]
        if let loginHint, !loginHint.isEmpty { query.append(("login_hint", loginHint)) }
        let separator = provider.authorizationEndpoint.contains("?") ? "&" : "?"
        return provider.authorizationEndpoint + separator + FormEncoding.encode(query)
    }

    /// Trades the code the provider sent back for an ID token and checks it: its signature with the provider's keys,
    /// its issuer, that it was issued to this client, that it has not expired, and that its nonce is the attempt's.
    public func identity(code: String, attempt: AuthorizationAttempt) async throws -> OIDCIdentity {
        let provider = try await providerMetadata()
        let idToken = try await exchange(code: code, verifier: attempt.verifier, at: provider)
        let claims = try await verified(idToken)
        guard OIDCSettings.withoutTrailingSlash(claims.iss.value) == OIDCSettings.withoutTrailingSlash(provider.issuer) else {
            throw OIDCError.invalidIDToken("issued by '\(claims.iss.value)', not '\(provider.issuer)'")
        }
        do {
            try claims.aud.verifyIntendedAudience(includes: settings.clientID)
        } catch {
            throw OIDCError.invalidIDToken("issued to \(claims.aud.value), not to the client '\(settings.clientID)'")
        }
        if claims.aud.value.count > 1, let azp = claims.azp, azp != settings.clientID {
            throw OIDCError.invalidIDToken("authorized for '\(azp)', not for the client '\(settings.clientID)'")
        }
        guard claims.nonce == attempt.nonce else {
            throw OIDCError.invalidIDToken("its nonce is not the one this sign-in sent")
        }
        return OIDCIdentity(
            issuer: provider.issuer, subject: claims.sub.value, email: claims.email, emailVerified: claims.emailVerified?.value ?? false,
            name: claims.name, preferredUsername: claims.preferredUsername, groups: Self.groups(in: idToken, claim: settings.groupsClaim))
    }

    /// The discovery document, read once; its issuer must be the one configured (OpenID Connect Discovery 1.0, §4.3).
    private func providerMetadata() async throws -> ProviderMetadata {
        if let metadata { return metadata }
        let document = try await get(settings.issuerBase + "/.well-known/openid-configuration", as: ProviderMetadata.self)
        guard settings.isIssuer(document.issuer) else {
            throw OIDCError.providerUnreachable(
                "its discovery document names the issuer '\(document.issuer)', not '\(settings.issuer)'")
        }
        metadata = document
        return document
    }

    /// The ID token's claims once its signature checks out. The keys are read again first when the token names a key
    /// not among them (a key rotated at the provider) and they were not read in the last `keyRereadInterval`; a token
    /// that names a known key but fails its signature is refused without another read.
    private func verified(_ idToken: String) async throws -> IDTokenClaims {
        let provider = try await providerMetadata()
        var collection = try await signingKeys(provider, fresh: false)
        if let keyID = Self.keyID(of: idToken), !keyIDs.contains(keyID),
           keysReadAt.map({ ContinuousClock.now - $0 >= keyRereadInterval }) ?? true {
            collection = try await signingKeys(provider, fresh: true)
        }
        do {
            return try await collection.verify(idToken, as: IDTokenClaims.self)
        } catch let error as JWTError where error.errorType == .claimVerificationFailure {
            throw OIDCError.invalidIDToken("\(error.reason ?? "its claims do not hold")")
        } catch {
            throw OIDCError.invalidIDToken("its signature does not check out (\(error))")
        }
    }

    /// The `kid` of a JWT's header, when it names one.
    static func keyID(of token: String) -> String? { part(0, of: token)?["kid"] as? String }

    /// The groups a (verified) token's `claim` lists: an array of strings, or one string; none otherwise.
    static func groups(in token: String, claim: String) -> [String] {
        switch part(1, of: token)?[claim] {
        case let list as [Any]: list.compactMap { $0 as? String }
        case let one as String: [one]
        default: []
        }
    }

    /// A JWT's header (0) or payload (1) as a JSON object.
    private static func part(_ index: Int, of token: String) -> [String: Any]? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count > index else { return nil }
        var base64 = parts[index].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64) else { return nil }
        return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    }

    private func signingKeys(_ provider: ProviderMetadata, fresh: Bool) async throws -> JWTKeyCollection {
        if let keys, !fresh { return keys }
        let jwks = try await get(provider.jwksURI, as: JWKS.self)
        let collection = JWTKeyCollection()
        do {
            try await collection.add(jwks: jwks)
        } catch {
            throw OIDCError.providerUnreachable("its signing keys could not be read: \(error)")
        }
        keys = collection
        keyIDs = Set(jwks.keys.compactMap { $0.keyIdentifier?.string })
        keysReadAt = .now
        return collection
    }

    /// The token request (RFC 6749 §4.1.3 with RFC 7636's verifier); the ID token of its answer.
    private func exchange(code: String, verifier: String, at provider: ProviderMetadata) async throws -> String {
        var form = [
            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", settings.redirectURI),
            ("code_verifier", verifier),
        ]
        var request = HTTPClientRequest(url: provider.tokenEndpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        if let secret = settings.clientSecret, !provider.postsClientSecret {
            // RFC 6749 §2.3.1: each part form-encoded before the Basic encoding.
            let pair = FormEncoding.component(settings.clientID) + ":" + FormEncoding.component(secret)
            request.headers.add(name: "Authorization", value: "Basic " + Data(pair.utf8).base64EncodedString())
        } else {
            form.append(("client_id", settings.clientID))
            if let secret = settings.clientSecret { form.append(("client_secret", secret)) }
        }
        request.body = .bytes(ByteBuffer(string: FormEncoding.encode(form)))
        let (status, body) = try await send(request, what: "its token endpoint")
        guard (200..<300).contains(status) else {
            let refusal = try? JSONDecoder().decode(TokenRefusal.self, from: body)
            throw OIDCError.codeRefused(
                "HTTP \(status)" + (refusal.map { ": \($0.error)" + ($0.errorDescription.map { " (\($0))" } ?? "") } ?? ""))
        }
        guard let answer = try? JSONDecoder().decode(TokenAnswer.self, from: body), let idToken = answer.idToken else {
            throw OIDCError.providerUnreachable("its token endpoint answered without an ID token (is 'openid' among the client's scopes?)")
        }
        return idToken
    }

    private func get<Document: Decodable>(_ url: String, as: Document.Type) async throws -> Document {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        let (status, body) = try await send(request, what: url)
        guard (200..<300).contains(status) else { throw OIDCError.providerUnreachable("\(url) answered HTTP \(status)") }
        do {
            return try JSONDecoder().decode(Document.self, from: body)
        } catch {
            throw OIDCError.providerUnreachable("\(url) answered what is not \(Document.self): \(error)")
        }
    }

    private func send(_ request: HTTPClientRequest, what: String) async throws -> (status: UInt, body: Data) {
        do {
            let response = try await http.execute(request, timeout: Self.timeout)
            let body = try await response.body.collect(upTo: 1 << 20)
            return (response.status.code, Data(buffer: body))
        } catch let error as OIDCError {
            throw error
        } catch {
            throw OIDCError.providerUnreachable("\(what) could not be reached: \(error)")
        }
    }

    private struct TokenAnswer: Decodable {
        let idToken: String?
        enum CodingKeys: String, CodingKey { case idToken = "id_token" }
    }

    private struct TokenRefusal: Decodable {
        let error: String
        let errorDescription: String?
        enum CodingKeys: String, CodingKey {
            case error
            case errorDescription = "error_description"
        }
    }
}

/// `application/x-www-form-urlencoded`, as a token request's body and an authorization request's query are written.
enum FormEncoding {
    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func component(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { component($0.0) + "=" + component($0.1) }.joined(separator: "&")
    }
}
