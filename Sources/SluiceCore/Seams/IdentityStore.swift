import Foundation

/// Who signs in with an OpenID Connect provider (`serve --oidc-issuer`): each person the provider names — by its
/// issuer and their subject, which never change — is tied to one Sluice user.
public protocol IdentityStore: Sendable {
    /// The user the provider's person is, when they signed in with it before (a deleted user's ties are gone).
    func user(issuer: String, subject: String) async throws -> User?
    /// Ties the provider's person to the user; `false` when they are tied to another user already (a sign-in that
    /// raced this one), and then nothing changes.
    func linkIdentity(issuer: String, subject: String, userID: String) async throws -> Bool
    /// The issuers the user signs in with.
    func identityIssuers(userID: String) async throws -> [String]
    /// The users tied to someone at any provider (the Users page's "single sign-on").
    func identityUserIDs() async throws -> Set<String>
    /// Unties the user from the people `issuer` names; how many ties there were.
    func unlinkIdentities(userID: String, issuer: String) async throws -> Int
}
