import Foundation
import SluiceCore
import SluiceTestSupport
import Testing

/// The order-keeping JSON parser that carries a caller's JSON Schema upstream.
struct JSONValueTests {
    @Test("an object's members keep the order the text gave them, at every depth")
    func memberOrderIsKept() throws {
        let text = #"{"zeta":1,"alpha":{"y":[true,null],"b":"x"},"mid":-0.5e3}"#
        let value = try JSONValue(parsing: Array(text.utf8))
        guard case .object(let members) = value else { Issue.record("not an object"); return }
        #expect(members.map(\.key) == ["zeta", "alpha", "mid"])
        guard case .object(let inner)? = value["alpha"] else { Issue.record("alpha is not an object"); return }
        #expect(inner.map(\.key) == ["y", "b"])
        #expect(value.text == text)
    }

    @Test("escapes and surrogate pairs read as JSONSerialization reads them")
    func stringsMatchFoundation() throws {
        let texts = [
            #""tab\there \"quoted\" back\\slash \/ \u00e9 \ud83d\ude00 \b\f\r\n""#,
            #""plain ünïcödé 日本語""#,
        ]
        for text in texts {
            let ours = try JSONValue(parsing: Array(text.utf8))
            let foundation = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed) as? String)
            #expect(ours == .string(foundation), "\(text)")
        }
    }

    @Test("text that is not exactly one JSON value is refused, with where it went wrong")
    func malformedTextIsRefused() {
        let bad = [
            "", "{", #"{"a"}"#, "{,}", "[,]", "[1,,]", #"{"a":1,,}"#, "01", "1.", "-", "1e", "tru", #""unterminated"#,
            "\"control\u{01}char\"", #""\x""#, "{} {}", "[1] x", #"{"a":"\u12G4"}"#, "nul",
            #""lone \ud83d surrogate""#, #""\ude00 low first""#,
            String(repeating: "[", count: 200) + String(repeating: "]", count: 200),
        ]
        for text in bad {
            #expect(throws: JSONValue.SyntaxError.self, "\(text.prefix(20))") { try JSONValue(parsing: Array(text.utf8)) }
            // Foundation refuses each of them too (the deep nesting aside, which it reads).
            if !text.hasPrefix("[[[") {
                #expect((try? JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed)) == nil, "\(text)")
            }
        }
    }

    @Test("a comma after the last element is read, as Foundation reads it")
    func trailingCommaAsFoundation() throws {
        #expect(try JSONValue(parsing: Array(#"{"a":[1,2,],}"#.utf8)) == .object([JSONValue.Member("a", .array([.number("1"), .number("2")]))]))
        #expect((try? JSONSerialization.jsonObject(with: Data(#"{"a":[1,2,],}"#.utf8))) != nil)
    }

    @Test("numbers are kept as written and are what Foundation reads")
    func numbersAreKeptAsWritten() throws {
        for text in ["0", "-0", "12", "-3.25", "1e3", "2.5E-4", "1E+2", "123456789012345678901234567890"] {
            let value = try JSONValue(parsing: Array(text.utf8))
            #expect(value == .number(text))
            let foundation = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed) as? NSNumber)
            #expect(Double(text) == foundation.doubleValue)
        }
    }

    @Test("a random value written as text and read back is the same value, and Foundation reads the same text", arguments: 0..<4)
    func roundTrip(seed: UInt64) throws {
        var random = SeededGenerator(seed: seed)
        for _ in 0..<200 {
            let value = Self.randomValue(depth: 0, using: &random)
            let text = value.text
            #expect(try JSONValue(parsing: Array(text.utf8)) == value, "\(text)")
            #expect((try? JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed)) != nil, "\(text)")
        }
    }

    static func randomValue(depth: Int, using random: inout SeededGenerator) -> JSONValue {
        let choice = Int.random(in: 0..<(depth > 3 ? 4 : 6), using: &random)
        switch choice {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &random))
        case 2: return .number(["0", "-1", "3.5", "1e-7", "42", "-0.25E+3"].randomElement(using: &random)!)
        case 3: return .string(randomString(using: &random))
        case 4: return .array((0..<Int.random(in: 0..<4, using: &random)).map { _ in randomValue(depth: depth + 1, using: &random) })
        default:
            return .object((0..<Int.random(in: 0..<4, using: &random)).map { index in
                JSONValue.Member("\(randomString(using: &random))\(index)", randomValue(depth: depth + 1, using: &random))
            })
        }
    }

    static func randomString(using random: inout SeededGenerator) -> String {
        let pieces = ["a", "Z", " ", "\"", "\\", "/", "\n", "\t", "\u{01}", "é", "日", "😀", "\u{7F}", "\u{2028}"]
        return (0..<Int.random(in: 0..<6, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined()
    }
}
