import Crypto
import Foundation
import SluiceCore

/// Two-step verification for the password sign-in, as GitHub and Google offer it: an authenticator app's six-digit
/// code (`TimeBasedCode`) after the password, or one of ten single-use recovery codes when the phone is lost. A code is
/// taken at most once (`TwoStepStore.takeTwoStepCode`), so one read over a shoulder cannot be used again.
struct TwoStepVerification: Sendable {
    let store: any TwoStepStore
    /// The name authenticator apps show above the code.
    var issuer = "Sluice"

    /// What a code given at sign-in turned out to be.
    enum Outcome: Equatable {
        /// The authenticator's code of the moment, taken now.
        case code
        /// One of the recovery codes, gone now; `left` remain.
        case recoveryCode(left: Int)
        /// The authenticator's right code, but already taken (a second sign-in within its 30 seconds).
        case alreadyUsed
        case wrong
    }

    /// A new secret: 160 random bits, as RFC 4226 recommends, in base32.
    static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return Base32.encode((0..<20).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    /// The `otpauth://` URI an authenticator app reads from the set-up's QR code.
    func setUpURI(secret: String, account: String) -> String { Self.uri(issuer: issuer, secret: secret, account: account) }

    static func uri(issuer: String, secret: String, account: String) -> String {
        let label = "\(issuer):\(account)".addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? issuer
        let issued = issuer.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? issuer
        return "otpauth://totp/\(label)?secret=\(secret)&issuer=\(issued)&algorithm=SHA1&digits=6&period=30"
    }

    /// Ten new recovery codes, as GitHub's: ten hexadecimal digits each, shown as two groups of five.
    static func newRecoveryCodes() -> [String] {
        var generator = SystemRandomNumberGenerator()
        return (0..<10).map { _ in
            let digits = (0..<10).map { _ in String(Int.random(in: 0..<16, using: &generator), radix: 16) }.joined()
            return "\(digits.prefix(5))-\(digits.suffix(5))"
        }
    }

    /// The stored hash of a recovery code, however it was typed (case, spaces, the dash).
    static func recoveryHash(_ code: String) -> String {
        let typed = code.lowercased().filter { $0.isHexDigit }
        return SHA256.hash(data: Data(typed.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The step whose code `given` is for the secret, at `date`; `nil` when it is not one of the moment.
    static func step(of given: String, secret: String, at date: Date) -> Int64? {
        let digits = given.filter { !$0.isWhitespace }
        guard digits.count == 6, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), let key = Base32.decode(secret)
        else { return nil }
        return TimeBasedCode(secret: key).matchingStep(of: digits, at: date)
    }

    /// Takes `given` — the authenticator's code of the moment or a recovery code — for a user whose two-step
    /// verification is on with `state`.
    func take(_ given: String, userID: String, state: TwoStepState, at date: Date = Date()) async throws -> Outcome {
        if let step = Self.step(of: given, secret: state.secret, at: date) {
            return try await store.takeTwoStepCode(userID: userID, step: step) ? .code : .alreadyUsed
        }
        guard given.filter(\.isHexDigit).count == 10, try await store.takeRecoveryCode(userID: userID, codeHash: Self.recoveryHash(given))
        else { return .wrong }
        return .recoveryCode(left: max(0, state.recoveryCodesLeft - 1))
    }
}
