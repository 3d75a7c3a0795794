import ArgumentParser
import Foundation
import SluiceOIDC
import SluiceServer

/// `serve`'s options for signing in with an OpenID Connect provider (`SingleSignOn`). Register Sluice with the
/// provider as a confidential web client whose redirect URI is `{--public-url}/api/sign-in/oidc/callback`.
struct SingleSignOnOptions: ParsableArguments {
    @Option(help: "Sign people in with this OpenID Connect provider, named by its issuer, e.g. https://keycloak.example.com/realms/acme or https://accounts.google.com (SLUICE_OIDC_ISSUER; default none).")
    var oidcIssuer: String?
    @Option(help: "The client ID Sluice is registered as with the provider (SLUICE_OIDC_CLIENT_ID).") var oidcClientId: String?
    @Option(help: "The client's secret; prefer SLUICE_OIDC_CLIENT_SECRET, which other users of the machine cannot read in the process list (none: a public client, PKCE only).")
    var oidcClientSecret: String?
    @Option(help: "The provider's name on the sign-in page's button, 'Continue with <name>' (SLUICE_OIDC_NAME, default 'single sign-on').")
    var oidcName: String?
    @Option(help: "The scopes asked for, space-separated (SLUICE_OIDC_SCOPES, default 'openid email profile').") var oidcScopes: String?
    @Option(help: "A person the provider signs in for the first time gets an account at once (open) or one that waits for an administrator's approval (approval) (SLUICE_OIDC_SIGN_UP, default open).")
    var oidcSignUp: String?
    @Option(help: "Let in only people whose email address the provider verified at one of these domains, e.g. example.com (repeatable; SLUICE_OIDC_ALLOWED_DOMAINS, comma-separated; default: everyone the provider signs in).")
    var oidcAllowedDomain: [String] = []
    @Option(help: "The ID token's claim that lists a person's groups (SLUICE_OIDC_GROUPS_CLAIM, default groups).") var oidcGroupsClaim: String?
    @Option(help: "Members of this provider group are administrators and others are not, set at every sign-in through the provider (SLUICE_OIDC_ADMIN_GROUP; default: administrators are managed in Sluice).")
    var oidcAdminGroup: String?
    @Flag(help: "The provider's groups decide each user's team at every sign-in through it: the first group named as a Sluice team, or none (SLUICE_OIDC_TEAM_FROM_GROUPS=1).")
    var oidcTeamFromGroups = false
    @Option(help: "on, or off: only the provider (and tokens, e.g. 'sluice user token') sign people in, so that leaving the provider's directory leaves Sluice too; needs --oidc-issuer and --sign-up off (SLUICE_PASSWORD_SIGN_IN, default on).")
    var passwordSignIn: String?
    @Option(help: "The address people reach Sluice at, e.g. https://chat.example.com; the provider sends them back to <it>/api/sign-in/oidc/callback (SLUICE_PUBLIC_URL, default http://<host>:<port>).")
    var publicUrl: String?

    /// Whether a name and password sign in: `--password-sign-in off` needs a provider, and no sign-up by password.
    func passwordSignInAllowed(_ settings: SettingResolver, singleSignOn: SingleSignOn?, signUp: SignUpMode) throws -> Bool {
        switch settings.string(passwordSignIn, env: "SLUICE_PASSWORD_SIGN_IN", default: "on")! {
        case "on": return true
        case "off":
            guard singleSignOn != nil else {
                throw SettingError("--password-sign-in off needs --oidc-issuer: otherwise only tokens would sign anyone in")
            }
            guard signUp == .off else {
                throw SettingError("--password-sign-in off and --sign-up \(signUp.rawValue) disagree: accounts made with a password could not sign in")
            }
            return false
        case let other: throw SettingError("--password-sign-in / SLUICE_PASSWORD_SIGN_IN must be on or off, not '\(other)'")
        }
    }

    /// The single sign-on these options describe; `nil` when no issuer is given. Throws a `SettingError` naming the
    /// option that is wrong.
    func singleSignOn(_ settings: SettingResolver, host: String, port: Int) throws -> SingleSignOn? {
        guard let issuer = settings.string(oidcIssuer, env: "SLUICE_OIDC_ISSUER", default: nil) else { return nil }
        guard Self.isHTTPURL(issuer) else {
            throw SettingError("--oidc-issuer / SLUICE_OIDC_ISSUER must be an http(s) address such as https://login.example.com, not '\(issuer)'")
        }
        guard let clientID = settings.string(oidcClientId, env: "SLUICE_OIDC_CLIENT_ID", default: nil) else {
            throw SettingError("--oidc-issuer needs --oidc-client-id / SLUICE_OIDC_CLIENT_ID: the client ID Sluice is registered as with the provider")
        }
        let shownHost = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host
        let publicURL = settings.string(publicUrl, env: "SLUICE_PUBLIC_URL", default: "http://\(shownHost):\(port)")!
        guard Self.isHTTPURL(publicURL) else {
            throw SettingError("--public-url / SLUICE_PUBLIC_URL must be an http(s) address such as https://chat.example.com, not '\(publicURL)'")
        }
        let signUpSetting = settings.string(oidcSignUp, env: "SLUICE_OIDC_SIGN_UP", default: "open")!
        guard let newAccounts = SignUpMode(rawValue: signUpSetting), newAccounts != .off else {
            throw SettingError("--oidc-sign-up / SLUICE_OIDC_SIGN_UP must be open or approval, not '\(signUpSetting)'")
        }
        let base = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        let scopes = settings.string(oidcScopes, env: "SLUICE_OIDC_SCOPES", default: "openid email profile")!
            .split(whereSeparator: \.isWhitespace).map(String.init)
        let oidc = OIDCSettings(
            issuer: issuer, clientID: clientID,
            clientSecret: settings.string(oidcClientSecret, env: "SLUICE_OIDC_CLIENT_SECRET", default: nil),
            redirectURI: base + "/api/sign-in/oidc/callback", scopes: scopes,
            displayName: settings.string(oidcName, env: "SLUICE_OIDC_NAME", default: "single sign-on")!,
            groupsClaim: settings.string(oidcGroupsClaim, env: "SLUICE_OIDC_GROUPS_CLAIM", default: "groups")!)
        let domains = settings.list(oidcAllowedDomain, env: "SLUICE_OIDC_ALLOWED_DOMAINS")
        for domain in domains where domain.isEmpty || domain.contains("@") || domain.contains("/") || domain.contains(" ") {
            throw SettingError("--oidc-allowed-domain / SLUICE_OIDC_ALLOWED_DOMAINS: '\(domain)' is not a domain such as example.com")
        }
        return SingleSignOn(
            client: OIDCClient(settings: oidc), newAccounts: newAccounts, appURL: base + "/", allowedDomains: domains,
            adminGroup: settings.string(oidcAdminGroup, env: "SLUICE_OIDC_ADMIN_GROUP", default: nil),
            teamsFromGroups: oidcTeamFromGroups
                || ["1", "true", "yes"].contains(settings.string(nil, env: "SLUICE_OIDC_TEAM_FROM_GROUPS", default: "")!.lowercased()))
    }

    private static func isHTTPURL(_ text: String) -> Bool {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), url.host?.isEmpty == false else { return false }
        return scheme == "http" || scheme == "https"
    }
}
