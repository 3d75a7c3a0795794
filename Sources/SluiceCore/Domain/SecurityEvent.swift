import Foundation

/// Something that happened to a user's sign-in, as GitHub's security log and Google's "Recent security activity" list
/// it: so that a user sees a sign-in they did not make, or wrong passwords tried on their name, and an administrator
/// can tell what happened to an account.
public struct SecurityEvent: Sendable, Equatable {
    /// What happened; stored by its raw value.
    public enum Kind: String, Sendable, CaseIterable {
        /// A sign-in with the password (`detail`: how the second step was passed, if there was one).
        case signedIn = "signed_in"
        /// A sign-in refused with the user's name (`detail`: a wrong password, a wrong or used code).
        case signInRefused = "sign_in_refused"
        case passwordChanged = "password_changed"
        case passwordRemoved = "password_removed"
        case twoStepOn = "two_step_on"
        case twoStepOff = "two_step_off"
        case recoveryCodesRenewed = "recovery_codes_renewed"
        /// Every other browser signed out (or every browser, by an administrator).
        case signedOutElsewhere = "signed_out_elsewhere"
        /// The user's account at the sign-in provider was tied to this one (`detail`: the provider's name) — or untied.
        case providerConnected = "provider_connected"
        case providerDisconnected = "provider_disconnected"
    }

    public let id: String
    public let userID: String
    public let kind: Kind
    public let at: Date
    /// Where the request came from (`nil` fields: a command run on the server, or not sent).
    public let origin: SessionOrigin
    /// A few words more: how a sign-in passed, which administrator did it.
    public let detail: String?

    public init(id: String, userID: String, kind: Kind, at: Date, origin: SessionOrigin, detail: String?) {
        self.id = id
        self.userID = userID
        self.kind = kind
        self.at = at
        self.origin = origin
        self.detail = detail
    }
}
