import SluiceCore
import Testing

@testable import SluiceServer

/// `UsageCostField` adds what a pass-through call cost to the upstream's own body, found by scanning, not parsing.
@Suite("The cost added to an upstream's usage")
struct UsageCostFieldTests {
    static func adding(_ cost: String?, to json: String) throws -> String {
        let amount = try cost.map { try #require(USDAmount($0)) }
        return String(decoding: UsageCostField.adding(amount, to: Array(json.utf8)), as: UTF8.self)
    }

    @Test("the cost goes last into the top-level usage, whatever comes before it or inside it")
    func added() throws {
        #expect(try Self.adding("0.000014", to: #"{"id":"x","usage":{"prompt_tokens":4,"total_tokens":9}}"#)
            == #"{"id":"x","usage":{"prompt_tokens":4,"total_tokens":9,"cost":0.000014}}"#)
        // Spaces and nested details, and strings that look like JSON (escaped quotes, braces, a "usage" that is a value).
        let tricky = #"{"choices":[{"text":"a \"usage\": {\"cost\":1} }","usage":null}], "usage" : { "details": {"cached": 0} } }"#
        #expect(try Self.adding("0.5", to: tricky)
            == #"{"choices":[{"text":"a \"usage\": {\"cost\":1} }","usage":null}], "usage" : { "details": {"cached": 0} ,"cost":0.5} }"#)
        #expect(try Self.adding("0", to: #"{"usage":{}}"#) == #"{"usage":{"cost":0}}"#)
    }

    @Test("without a usage object, without a price, or with a cost already there, the body is passed on as it came")
    func unchanged() throws {
        for json in [
            #"{"data":[{"embedding":[0.1,0.2]}]}"#, #"{"usage":null}"#, #"{"results":[{"usage":{"a":1}}]}"#,
            #"{"usage":{"total_tokens":3,"cost":0.2}}"#, #"{"usage":{"total"#, "not json",
        ] {
            #expect(try Self.adding("0.1", to: json) == json)
        }
        #expect(try Self.adding(nil, to: #"{"usage":{"total_tokens":3}}"#) == #"{"usage":{"total_tokens":3}}"#)
    }
}
