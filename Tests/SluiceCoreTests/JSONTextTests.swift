import Foundation
import Testing
import SluiceCore

@Suite("JSON string quoting")
struct JSONTextTests {
    /// The scalar-by-scalar quoting the byte scanner replaced: the reference it must match exactly.
    static func referenceQuote(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }

    @Test("random texts of quotes, controls, separators, accents and emoji quote exactly as before and decode back")
    func matchesReference() throws {
        let alphabet: [String] = ["a", "Z", " ", "\"", "\\", "\n", "\r", "\t", "\u{00}", "\u{07}", "\u{1F}", "\u{7F}", "é",
                                  "\u{2028}", "\u{2029}", "\u{2027}", "\u{202A}", "€", "😀", "👩‍💻", "/", "<", "中"]
        var generator = SystemRandomNumberGenerator()
        for length in [0, 1, 2, 3, 5, 17, 200] {
            for _ in 0..<200 {
                let text = (0..<length).map { _ in alphabet.randomElement(using: &generator)! }.joined()
                let quoted = JSONText.quote(text)
                #expect(quoted == Self.referenceQuote(text))
                let decoded = try JSONSerialization.jsonObject(with: Data(quoted.utf8), options: .fragmentsAllowed) as? String
                #expect(decoded == text)
            }
        }
        var bytes: [UInt8] = Array("prefix:".utf8)
        JSONText.appendQuoted("a\"b", to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == "prefix:\"a\\\"b\"")
    }
}
