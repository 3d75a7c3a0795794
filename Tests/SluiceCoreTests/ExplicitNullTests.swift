import Foundation
import SluiceCore
import Testing

/// `ExplicitNull`: an optional field of a wire type is written as `null`, never left out, and a value as synthesized
/// encoding would write it (the encoder's strategies included).
@Suite("Explicit nulls")
struct ExplicitNullTests {
    struct Wire: Encodable {
        let name: String
        @ExplicitNull var limitUsd: String?
        @ExplicitNull var seenAt: Date?
        var leftOutWhenNil: Int?
    }

    static func encoded(_ wire: Wire) throws -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(wire), as: UTF8.self)
    }

    @Test("nil is written as null, a value as itself; a plain optional is still left out")
    func nullsAndValues() throws {
        #expect(try Self.encoded(Wire(name: "a", limitUsd: nil, seenAt: nil)) == #"{"limit_usd":null,"name":"a","seen_at":null}"#)
        #expect(try Self.encoded(Wire(name: "a", limitUsd: "2.5", seenAt: Date(timeIntervalSince1970: 7), leftOutWhenNil: 3))
            == #"{"left_out_when_nil":3,"limit_usd":"2.5","name":"a","seen_at":7}"#)
    }
}
