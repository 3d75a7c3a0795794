import Foundation
import JWTKit

/// What the provider's discovery document (`/.well-known/openid-configuration`) says Sluice needs.
struct ProviderMetadata: Decodable, Sendable {
    let issuer: String
    let authorizationEndpoint: String
    let tokenEndpoint: String
    let jwksURI: String
    /// How the client proves itself at the token endpoint; absent means `client_secret_basic` (OpenID Connect
    /// Discovery 1.0, §3).
    let tokenEndpointAuthMethods: [String]?

    enum CodingKeys: String, CodingKey {
        case issuer
        case authorizationEndpoint = "authorization_endpoint"
        case tokenEndpoint = "token_endpoint"
        case jwksURI = "jwks_uri"
        case tokenEndpointAuthMethods = "token_endpoint_auth_methods_supported"
    }

    /// Whether the client's secret goes in the token request's body rather than a Basic `Authorization` header.
    var postsClientSecret: Bool {
        guard let methods = tokenEndpointAuthMethods else { return false }
        return !methods.contains("client_secret_basic") && methods.contains("client_secret_post")
    }
}

/// The claims of an ID token that Sluice reads. The signature and expiry are checked by `verify(using:)`; the issuer,
/// audience and nonce by `OIDCClient`, which knows what they must be.
struct IDTokenClaims: JWTPayload {
    let iss: IssuerClaim
    let sub: SubjectClaim
    let aud: AudienceClaim
    let exp: ExpirationClaim
    let azp: String?
    let nonce: String?
    let email: String?
    let emailVerified: BoolClaim?
    let name: String?
    let preferredUsername: String?

    enum CodingKeys: String, CodingKey {
        case iss, sub, aud, exp, azp, nonce, email, name
        case emailVerified = "email_verified"
        case preferredUsername = "preferred_username"
    }

    /// How far the provider's clock may run ahead of Sluice's.
    static let clockSkew: TimeInterval = 60

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired(currentDate: Date().addingTimeInterval(-Self.clockSkew))
    }
}
