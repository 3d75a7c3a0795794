import Crypto
import Foundation
import Hummingbird
import JWTKit
import Logging
import Synchronization
import _CryptoExtras

/// A person the simulated provider signs in. Like everything here it shares no code with `SluiceOIDC` (its
/// `OIDCIdentity` looks much the same): the provider's side is written apart from the client it tests, so that one
/// mistake made in both cannot pass.
public struct SimulatedPerson: Sendable, Equatable {
    public var subject: String
    public var email: String?
    public var emailVerified: Bool
    public var name: String?
    public var preferredUsername: String?
    /// Sent as the ID token's `groups` claim when not empty.
    public var groups: [String]

    public init(
        subject: String, email: String? = nil, emailVerified: Bool = true, name: String? = nil, preferredUsername: String? = nil,
        groups: [String] = []
    ) {
        self.groups = groups
        self.subject = subject
        self.email = email
        self.emailVerified = emailVerified
        self.name = name
        self.preferredUsername = preferredUsername
    }

    /// The person a `login_hint` names: `hint` as their user name, `sub-hint` as their subject.
    public static func hinted(_ hint: String) -> SimulatedPerson {
        SimulatedPerson(subject: "sub-" + hint, email: hint + "@example.test", name: hint.capitalized, preferredUsername: hint)
    }
}

/// What the simulated provider gets wrong on purpose, one sign-in at a time (`IdentityProviderSimulator.fault`).
public enum IdentityProviderFault: String, Sendable, CaseIterable {
    case none
    /// The person declines at the provider: the browser comes back with `error=access_denied`.
    case deny
    /// The token endpoint refuses the code (`invalid_grant`).
    case refuseCode = "refuse-code"
    /// The ID token carries another nonce than the one the sign-in sent.
    case wrongNonce = "wrong-nonce"
    /// The ID token is issued to another client.
    case wrongAudience = "wrong-audience"
    /// The ID token expired an hour ago.
    case expired
    /// The ID token is signed with a key the provider does not publish (under a published key's id).
    case foreignKey = "foreign-key"
}

/// An OpenID Connect provider on loopback, a real HTTP server for the single sign-on's tests: discovery, an
/// authorization endpoint that signs in at once (the person `login_hint` names, or `person`), a token endpoint that
/// checks the client's secret, the redirect URI and PKCE, and ID tokens signed with an RSA key (RS256) it publishes
/// as a JWKS. Its issuer is the address it is reached at.
public final class IdentityProviderSimulator: Sendable {
    public let clientID: String
    public let clientSecret: String
    /// The keys it publishes, by id; the last signs its tokens (`rotateKey()` adds one).
    private let signingKeys: Mutex<[(id: String, key: JWTKit.Insecure.RSA.PrivateKey)]>
    /// Signs the `foreignKey` fault's tokens: the signing key's id, another key.
    private let foreignKey: JWTKit.Insecure.RSA.PrivateKey
    private let state = Mutex(State())

    private struct State {
        var person = SimulatedPerson(subject: "sub-casey", email: "casey@example.test", name: "Casey Jones", preferredUsername: "casey")
        var fault = IdentityProviderFault.none
        var grants: [String: Grant] = [:]
        var tokensIssued = 0
    }

    private struct Grant {
        let redirectURI: String
        let nonce: String?
        let challenge: String
        let person: SimulatedPerson
    }

    public init(clientID: String = "sluice", clientSecret: String = "simulated-client-secret") throws {
        self.clientID = clientID
        self.clientSecret = clientSecret
        signingKeys = Mutex([(id: "sim-1", key: try JWTKit.Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048)))])
        foreignKey = try JWTKit.Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048))
    }

    /// Who signs in when the request names no one.
    public var person: SimulatedPerson {
        get { state.withLock { $0.person } }
        set { state.withLock { $0.person = newValue } }
    }

    /// What goes wrong with the next sign-ins.
    public var fault: IdentityProviderFault {
        get { state.withLock { $0.fault } }
        set { state.withLock { $0.fault = newValue } }
    }

    /// Starts signing with a new key, published beside the old ones, as a provider's key rotation does.
    public func rotateKey() throws {
        let key = try JWTKit.Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048))
        signingKeys.withLock { $0.append((id: "sim-\($0.count + 1)", key: key)) }
    }

    /// ID tokens handed out so far.
    public var tokensIssued: Int { state.withLock { $0.tokensIssued } }

    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get(".well-known/openid-configuration") { request, _ in
            let issuer = Self.issuer(of: request)
            return Self.json([
                "issuer": issuer, "authorization_endpoint": issuer + "/authorize", "token_endpoint": issuer + "/token",
                "jwks_uri": issuer + "/jwks", "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"], "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            ] as [String: Any])
        }
        router.get("jwks") { _, _ in
            let published = try self.signingKeys.withLock { $0 }.map { id, key in
                let primitives = try key.publicKey.getKeyPrimitives()
                return [
                    "kty": "RSA", "use": "sig", "alg": "RS256", "kid": id,
                    "n": Self.base64URL(primitives.modulus), "e": Self.base64URL(primitives.publicExponent),
                ]
            }
            return Self.json(["keys": published])
        }
        router.get("authorize") { request, _ in try self.authorize(request) }
        router.post("token") { request, context in try await self.token(request, context: context) }
        return router
    }

    public func application(
        host: String = "127.0.0.1", port: Int, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        var logger = Logger(label: "sluice.identity-provider")
        logger.logLevel = .warning
        return Application(
            router: router(), configuration: .init(address: .hostname(host, port: port), serverName: "sluice-identity-provider"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) }, logger: logger)
    }

    private func authorize(_ request: Request) throws -> Response {
        let query = request.uri.queryParameters
        guard query["response_type"].map(String.init) == "code", query["client_id"].map(String.init) == clientID,
              let redirectURI = query["redirect_uri"].map(String.init), let state = query["state"].map(String.init),
              let challenge = query["code_challenge"].map(String.init), query["code_challenge_method"].map(String.init) == "S256",
              query["scope"].map(String.init)?.split(separator: " ").contains("openid") == true
        else {
            return Response(status: .badRequest, body: .init(byteBuffer: ByteBuffer(string: "not an OpenID Connect authorization request")))
        }
        let hint = query["login_hint"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        let (fault, person) = self.state.withLock { ($0.fault, hint.map(SimulatedPerson.hinted) ?? $0.person) }
        var back = URLComponents(string: redirectURI)!
        if fault == .deny {
            back.queryItems = [
                URLQueryItem(name: "error", value: "access_denied"),
                URLQueryItem(name: "error_description", value: "The user declined."), URLQueryItem(name: "state", value: state),
            ]
        } else {
            let code = Self.base64URL(Data((0..<24).map { _ in UInt8.random(in: .min ... .max) }))
            self.state.withLock {
                $0.grants[code] = Grant(
                    redirectURI: redirectURI, nonce: query["nonce"].map(String.init), challenge: challenge, person: person)
            }
            back.queryItems = [URLQueryItem(name: "code", value: code), URLQueryItem(name: "state", value: state)]
        }
        return Response(status: .found, headers: [.location: back.string!])
    }

    private func token(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let body = try await request.body.collect(upTo: 64 * 1024)
        var form = URLComponents()
        form.percentEncodedQuery = String(buffer: body).replacingOccurrences(of: "+", with: "%20")
        let fields = Dictionary((form.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { first, _ in first })
        var client = (fields["client_id"], fields["client_secret"])
        if let basic = request.headers[.authorization], basic.hasPrefix("Basic "),
           let decoded = Data(base64Encoded: String(basic.dropFirst(6))).flatMap({ String(data: $0, encoding: .utf8) }),
           let colon = decoded.firstIndex(of: ":") {
            client = (String(decoded[..<colon]).removingPercentEncoding, String(decoded[decoded.index(after: colon)...]).removingPercentEncoding)
        }
        guard client.0 == clientID, client.1 == clientSecret else { return Self.refusal(.unauthorized, "invalid_client") }
        let (grant, fault) = state.withLock { state in
            (fields["code"].flatMap { state.grants.removeValue(forKey: $0) }, state.fault)
        }
        guard fields["grant_type"] == "authorization_code", let grant, fault != .refuseCode,
              fields["redirect_uri"] == grant.redirectURI,
              let verifier = fields["code_verifier"], Self.base64URL(Data(SHA256.hash(data: Data(verifier.utf8)))) == grant.challenge
        else { return Self.refusal(.badRequest, "invalid_grant") }
        let now = Date()
        let claims = SimulatedIDToken(
            iss: IssuerClaim(value: Self.issuer(of: request)), sub: SubjectClaim(value: grant.person.subject),
            aud: AudienceClaim(value: [fault == .wrongAudience ? "another-client" : clientID]),
            exp: ExpirationClaim(value: fault == .expired ? now.addingTimeInterval(-3600) : now.addingTimeInterval(300)),
            iat: IssuedAtClaim(value: fault == .expired ? now.addingTimeInterval(-3900) : now),
            nonce: fault == .wrongNonce ? "another-nonce" : grant.nonce, email: grant.person.email,
            email_verified: grant.person.email == nil ? nil : grant.person.emailVerified, name: grant.person.name,
            preferred_username: grant.person.preferredUsername, groups: grant.person.groups.isEmpty ? nil : grant.person.groups)
        let signing = signingKeys.withLock { $0.last! }
        let keys = JWTKeyCollection()
        await keys.add(rsa: fault == .foreignKey ? foreignKey : signing.key, digestAlgorithm: .sha256, kid: JWKIdentifier(string: signing.id))
        let idToken = try await keys.sign(claims, kid: JWKIdentifier(string: signing.id))
        state.withLock { $0.tokensIssued += 1 }
        return Self.json([
            "access_token": "simulated-access-token", "token_type": "Bearer", "expires_in": 300, "id_token": idToken,
        ] as [String: Any])
    }

    /// The address the request reached the provider at: its issuer.
    private static func issuer(of request: Request) -> String { "http://" + (request.head.authority ?? "127.0.0.1") }

    private static func json(_ object: Any) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    private static func refusal(_ status: HTTPResponse.Status, _ error: String) -> Response {
        var response = json(["error": error, "error_description": "refused by the simulated provider"])
        response.status = status
        return response
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// The ID token the simulated provider signs.
private struct SimulatedIDToken: JWTPayload {
    let iss: IssuerClaim
    let sub: SubjectClaim
    let aud: AudienceClaim
    let exp: ExpirationClaim
    let iat: IssuedAtClaim
    let nonce: String?
    let email: String?
    let email_verified: Bool?
    let name: String?
    let preferred_username: String?
    let groups: [String]?

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
