import Foundation
import Testing

@testable import SluiceServer

/// RFC 6238's one-time codes and RFC 4648's base32, checked against the RFCs' own test vectors.
@Suite("Time-based one-time codes")
struct TimeBasedCodeTests {
    /// RFC 6238, appendix B: the SHA-1 column, eight digits, secret "12345678901234567890".
    @Test("the codes are RFC 6238's test vectors", arguments: [
        (59.0, "94287082"), (1_111_111_109, "07081804"), (1_111_111_111, "14050471"), (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"), (20_000_000_000, "65353130"),
    ])
    func vectors(seconds: TimeInterval, expected: String) {
        let code = TimeBasedCode(secret: Array("12345678901234567890".utf8), digits: 8)
        #expect(code.code(step: TimeBasedCode.step(at: Date(timeIntervalSince1970: seconds))) == expected)
        // Six digits are the last six of eight (the same number, a smaller modulus).
        let six = TimeBasedCode(secret: Array("12345678901234567890".utf8))
        #expect(six.code(step: TimeBasedCode.step(at: Date(timeIntervalSince1970: seconds))) == String(expected.suffix(6)))
    }

    @Test("a code is taken in its own 30 seconds and the ones either side, not two steps away")
    func window() {
        let code = TimeBasedCode(secret: Array("12345678901234567890".utf8))
        let now = Date(timeIntervalSince1970: 1_234_567_890)
        let step = TimeBasedCode.step(at: now)
        for offset: Int64 in [-1, 0, 1] { #expect(code.matchingStep(of: code.code(step: step + offset), at: now) == step + offset) }
        for offset: Int64 in [-2, 2] { #expect(code.matchingStep(of: code.code(step: step + offset), at: now) == nil) }
        #expect(code.matchingStep(of: "12345", at: now) == nil)
    }

    @Test("base32 is RFC 4648's, and reads back whatever the case, spaces and padding")
    func base32() {
        let vectors = [("", ""), ("f", "MY"), ("fo", "MZXQ"), ("foo", "MZXW6"), ("foob", "MZXW6YQ"), ("fooba", "MZXW6YTB"), ("foobar", "MZXW6YTBOI")]
        for (plain, encoded) in vectors {
            #expect(Base32.encode(Array(plain.utf8)) == encoded)
            #expect(Base32.decode(encoded) == Array(plain.utf8))
        }
        #expect(Base32.decode("mzxw 6ytb oi======") == Array("foobar".utf8))
        #expect(Base32.decode("MZXW1") == nil)
        let secret = TwoStepVerification.newSecret()
        #expect(secret.count == 32 && Base32.decode(secret)?.count == 20)
        #expect(secret != TwoStepVerification.newSecret())
    }

    @Test("recovery codes are ten of ten hexadecimal digits, read back however they are typed")
    func recoveryCodes() {
        let codes = TwoStepVerification.newRecoveryCodes()
        #expect(codes.count == 10 && Set(codes).count == 10)
        #expect(codes.allSatisfy { $0.count == 11 && $0.filter(\.isHexDigit).count == 10 && $0.dropFirst(5).first == "-" })
        let code = codes[0]
        #expect(TwoStepVerification.recoveryHash(" \(code.uppercased().replacingOccurrences(of: "-", with: " ")) ")
            == TwoStepVerification.recoveryHash(code))
        #expect(TwoStepVerification.recoveryHash(code) != TwoStepVerification.recoveryHash(codes[1]))
    }

    @Test("the set-up URI is what authenticator apps read, the account name escaped")
    func uri() {
        let uri = TwoStepVerification.uri(issuer: "Sluice", secret: "ABC", account: "ann lee&co")
        #expect(uri == "otpauth://totp/Sluice%3Aann%20lee%26co?secret=ABC&issuer=Sluice&algorithm=SHA1&digits=6&period=30")
    }
}
