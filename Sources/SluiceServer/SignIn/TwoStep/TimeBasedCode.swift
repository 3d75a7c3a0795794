import Crypto
import Foundation

/// RFC 6238's time-based one-time codes, as every authenticator app (Google Authenticator, 1Password, Aegis) makes
/// them by default: HMAC-SHA1 over the number of 30-second steps since 1970, six digits.
struct TimeBasedCode: Sendable {
    static let period: TimeInterval = 30
    /// The secret shared with the authenticator.
    let secret: [UInt8]
    var digits = 6

    /// The time step `date` falls in.
    static func step(at date: Date) -> Int64 { Int64((date.timeIntervalSince1970 / period).rounded(.down)) }

    /// The code for time step `step` (RFC 4226's dynamic truncation), zero-padded to `digits`.
    func code(step: Int64) -> String {
        let counter = withUnsafeBytes(of: UInt64(bitPattern: step).bigEndian) { Data($0) }
        let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: counter, using: SymmetricKey(data: secret)))
        let offset = Int(mac[mac.count - 1] & 0x0f)
        let truncated = (UInt32(mac[offset] & 0x7f) << 24) | (UInt32(mac[offset + 1]) << 16)
            | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        let modulus = (0..<digits).reduce(UInt32(1)) { power, _ in power * 10 }
        let value = String(truncated % modulus)
        return String(repeating: "0", count: digits - value.count) + value
    }

    /// The step, of the one before `date`'s, `date`'s own and the one after (a phone's clock a little off, a code typed
    /// as it turned), whose code is `given`; `nil` when none is.
    func matchingStep(of given: String, at date: Date) -> Int64? {
        let now = Self.step(at: date)
        // Every candidate is compared in full, so the time taken does not say how much of a wrong code was right.
        var found: Int64?
        for step in [now - 1, now, now + 1] where Self.sameInConstantTime(code(step: step), given) {
            found = found ?? step
        }
        return found
    }

    private static func sameInConstantTime(_ a: String, _ b: String) -> Bool {
        let left = Array(a.utf8), right = Array(b.utf8)
        guard left.count == right.count else { return false }
        return zip(left, right).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// RFC 4648's base32 (upper case, no padding): how authenticator apps take a secret typed in or in an `otpauth://` URI.
enum Base32 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = [], buffer: UInt32 = 0, bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                output.append(alphabet[Int((buffer >> UInt32(bits - 5)) & 31)])
                bits -= 5
            }
        }
        if bits > 0 { output.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return String(decoding: output, as: UTF8.self)
    }

    /// The bytes of `text`, whatever its case, spaces and padding; `nil` when it has a character base32 has not.
    static func decode(_ text: String) -> [UInt8]? {
        var output: [UInt8] = [], buffer: UInt32 = 0, bits = 0
        for character in text.uppercased().utf8 where character != UInt8(ascii: " ") && character != UInt8(ascii: "=") {
            guard let value = alphabet.firstIndex(of: character) else { return nil }
            buffer = (buffer << 5) | UInt32(value)
            bits += 5
            if bits >= 8 {
                output.append(UInt8((buffer >> UInt32(bits - 8)) & 0xff))
                bits -= 8
            }
        }
        return output
    }
}
