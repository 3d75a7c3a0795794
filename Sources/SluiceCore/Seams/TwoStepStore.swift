import Foundation

/// A user's two-step verification (GitHub's and Google's "authenticator app"): a secret shared with their
/// authenticator, the last time step whose code was taken (so a code works once, on every instance of the database),
/// and single-use recovery codes, kept as hashes, for when the authenticator is lost.
public protocol TwoStepStore: Sendable {
    /// The user's two-step state; `nil` when they have none, neither on nor being set up.
    func twoStep(userID: String) async throws -> TwoStepState?
    /// Keeps `secret` as the user's two-step secret waiting to be confirmed, in place of one waiting before;
    /// `false` (and nothing changed) when two-step verification is already on.
    func beginTwoStep(userID: String, secret: String) async throws -> Bool
    /// Turns two-step verification on with the waiting secret, its code for `step` taken, and `recoveryCodeHashes` as
    /// the recovery codes; `false` (nothing changed) when no secret waits or it is already on.
    func enableTwoStep(userID: String, step: Int64, recoveryCodeHashes: [String]) async throws -> Bool
    /// Takes the code of time step `step`: `true` once for a step after the last one taken, `false` for that step or
    /// an earlier one again (a code seen once is not taken twice, even by another instance at the same moment).
    func takeTwoStepCode(userID: String, step: Int64) async throws -> Bool
    /// Takes the recovery code with this hash: `true` once, and the code is gone.
    func takeRecoveryCode(userID: String, codeHash: String) async throws -> Bool
    /// Puts `hashes` in place of the user's recovery codes.
    func replaceRecoveryCodes(userID: String, hashes: [String]) async throws
    /// The users whose two-step verification is on (the administrator's list of users shows it).
    func twoStepUserIDs() async throws -> Set<String>
    /// Turns two-step verification off (or drops a secret still waiting) and forgets the recovery codes; `false`
    /// when there was nothing to turn off.
    func disableTwoStep(userID: String) async throws -> Bool
}

/// A user's two-step verification as the store keeps it.
public struct TwoStepState: Sendable, Equatable {
    /// The shared secret, in base32 as authenticator apps take it.
    public let secret: String
    /// When it was turned on; `nil` while the secret waits for its first code.
    public let enabledAt: Date?
    /// The last time step whose code was taken (0: none yet).
    public let lastStep: Int64
    /// How many recovery codes are left unused.
    public let recoveryCodesLeft: Int

    public var isOn: Bool { enabledAt != nil }

    public init(secret: String, enabledAt: Date?, lastStep: Int64, recoveryCodesLeft: Int) {
        self.secret = secret
        self.enabledAt = enabledAt
        self.lastStep = lastStep
        self.recoveryCodesLeft = recoveryCodesLeft
    }
}
