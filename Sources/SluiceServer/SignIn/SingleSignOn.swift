import Crypto
import Foundation
import SluiceCore
import SluiceOIDC

/// Signing in with an OpenID Connect provider (`serve --oidc-issuer …`): the client that talks to it, and what
/// happens to a person it signs in for the first time.
public struct SingleSignOn: Sendable {
    public var client: OIDCClient
    /// A person the provider signs in for the first time gets an account at once (`open`, the default: the provider
    /// already decides who may use the application, as LiteLLM's SSO does) or one that waits for an administrator's
    /// approval (`approval`).
    public var newAccounts: SignUpMode
    /// Where the web app is, as the browser reaches it (`--public-url`): the callback sends the browser back there.
    public var appURL: String
    /// When not empty, only people whose email address the provider verified and whose domain is one of these
    /// (lower case) are let in (`--oidc-allowed-domains`), as Open WebUI's `OAUTH_ALLOWED_DOMAINS`: for a provider
    /// such as Google that signs in anyone.
    public var allowedDomains: [String]
    /// When set, the provider's groups decide who is an administrator, at every sign-in through it: members of this
    /// group are, others are not (`--oidc-admin-group`; Open WebUI's OAuth role management).
    public var adminGroup: String?
    /// Whether the provider's groups decide each user's team, at every sign-in through it: the first group that names a
    /// team, or none (`--oidc-team-from-groups`; LiteLLM's SSO teams).
    public var teamsFromGroups: Bool

    public init(
        client: OIDCClient, newAccounts: SignUpMode = .open, appURL: String = "/", allowedDomains: [String] = [],
        adminGroup: String? = nil, teamsFromGroups: Bool = false
    ) {
        self.client = client
        self.adminGroup = adminGroup
        self.teamsFromGroups = teamsFromGroups
        self.newAccounts = newAccounts
        self.appURL = appURL.hasSuffix("/") ? appURL : appURL + "/"
        self.allowedDomains = allowedDomains.map { $0.lowercased() }
    }

    /// Under what a user's request to connect their account at the provider is recorded (`SignInStore.recordAttempt`,
    /// shared by every instance): the attempt's state, hashed, and the user — what the callback must find before it
    /// believes the user its cookie names.
    static let connectionKind = "sso-connect"
    static func connectionKey(state: String, userID: String) -> String {
        SHA256.hash(data: Data(state.utf8)).map { String(format: "%02x", $0) }.joined() + ":" + userID
    }

    /// Whether `issuer` is the configured provider's (its discovery document may add or drop a trailing slash).
    func isProvider(_ issuer: String) -> Bool { client.settings.isIssuer(issuer) }

    /// Whether `allowedDomains` lets the person in.
    func admits(_ identity: OIDCIdentity) -> Bool {
        guard !allowedDomains.isEmpty else { return true }
        guard identity.emailVerified, let email = identity.email, let at = email.lastIndex(of: "@") else { return false }
        return allowedDomains.contains(email[email.index(after: at)...].lowercased())
    }

    /// The names a new account may take, in order: the provider's user name (`preferred_username`), else the email
    /// address, else the full name; then the same with `-2`, `-3`… for when another user has it.
    static func accountNames(for identity: OIDCIdentity) -> [String] {
        let given = [identity.preferredUsername, identity.email, identity.name].compactMap { $0 }
            .compactMap(AdminUserRoutes.userName).first
        let base = String((given ?? "user").prefix(60))
        return [base] + (2...20).map { "\(base)-\($0)" }
    }
}
