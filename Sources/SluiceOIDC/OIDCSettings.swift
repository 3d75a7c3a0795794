import Foundation

/// How Sluice signs people in with an OpenID Connect provider (`sluice serve --oidc-issuer …`): Keycloak, Microsoft
/// Entra ID, Google, Okta, Authentik, Dex — any provider that publishes a discovery document.
public struct OIDCSettings: Sendable {
    /// The provider's issuer, as its ID tokens name it (`https://login.example.com/realms/acme`); the discovery
    /// document is read from `{issuer}/.well-known/openid-configuration`.
    public var issuer: String
    /// The client (application) Sluice is registered as with the provider.
    public var clientID: String
    /// The client's secret; `nil` for a public client, which PKCE alone protects.
    public var clientSecret: String?
    /// Where the provider sends the browser back, `{public URL}/api/sign-in/oidc/callback`: it must be registered with
    /// the provider as one of the client's redirect URIs.
    public var redirectURI: String
    /// The scopes asked for; `openid` is always among them.
    public var scopes: [String]
    /// What the sign-in page's button names: "Continue with `displayName`".
    public var displayName: String
    /// The ID token's claim that lists the person's groups (Keycloak's group mapper, Okta's and Authentik's `groups`).
    public var groupsClaim: String

    public init(
        issuer: String, clientID: String, clientSecret: String?, redirectURI: String,
        scopes: [String] = ["openid", "email", "profile"], displayName: String = "single sign-on", groupsClaim: String = "groups"
    ) {
        self.groupsClaim = groupsClaim
        self.issuer = issuer
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.redirectURI = redirectURI
        self.scopes = scopes.contains("openid") ? scopes : ["openid"] + scopes
        self.displayName = displayName
    }

    /// The issuer without a trailing slash: providers differ on it, and the discovery document's address adds one.
    var issuerBase: String { Self.withoutTrailingSlash(issuer) }

    /// Whether `other` names the configured issuer, a trailing slash aside.
    public func isIssuer(_ other: String) -> Bool { Self.withoutTrailingSlash(other) == issuerBase }

    static func withoutTrailingSlash(_ issuer: String) -> String { issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer }
}

/// Who the provider said signed in, from a verified ID token.
public struct OIDCIdentity: Sendable, Equatable {
    /// The issuer and subject together name the person for good; the rest may change between sign-ins.
    public var issuer: String
    public var subject: String
    public var email: String?
    /// Whether the provider checked `email` belongs to the person.
    public var emailVerified: Bool
    /// The person's full name.
    public var name: String?
    /// The short name the person goes by at the provider (Keycloak's and Okta's user name).
    public var preferredUsername: String?
    /// The groups the ID token's groups claim lists (`OIDCSettings.groupsClaim`), in its order; none without it.
    public var groups: [String]

    public init(
        issuer: String, subject: String, email: String? = nil, emailVerified: Bool = false, name: String? = nil,
        preferredUsername: String? = nil, groups: [String] = []
    ) {
        self.groups = groups
        self.issuer = issuer
        self.subject = subject
        self.email = email
        self.emailVerified = emailVerified
        self.name = name
        self.preferredUsername = preferredUsername
    }
}

/// Why a sign-in with the provider did not work; `description` is for the server's log, never for the browser.
public enum OIDCError: Error, CustomStringConvertible, Equatable {
    /// The provider could not be reached, or answered what is not OpenID Connect.
    case providerUnreachable(String)
    /// The provider refused the code (expired, used already, or the client's secret is wrong).
    case codeRefused(String)
    /// The ID token failed a check: its signature, issuer, audience, expiry or nonce.
    case invalidIDToken(String)

    public var description: String {
        switch self {
        case .providerUnreachable(let detail): "the identity provider could not be used: \(detail)"
        case .codeRefused(let detail): "the identity provider refused the sign-in's code: \(detail)"
        case .invalidIDToken(let detail): "the identity provider's ID token was refused: \(detail)"
        }
    }
}
