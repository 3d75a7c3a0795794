import Testing
@testable import SluiceCore
import SluiceTestSupport

@Suite("SSE parser")
struct SSEParserTests {
    private func parse(_ text: String) -> [ServerSentEvent] {
        var parser = SSEParser()
        return parser.feed(Array(text.utf8))
    }

    @Test("a data line followed by a blank line is one event")
    func singleEvent() {
        #expect(parse("data: hello\n\n") == [ServerSentEvent(data: "hello")])
    }

    @Test("LF, CRLF and CR all end lines")
    func lineEnds() {
        let expected = [ServerSentEvent(event: "a", data: "1"), ServerSentEvent(event: "b", data: "2"), ServerSentEvent(data: "3")]
        #expect(parse("event: a\ndata: 1\n\nevent: b\r\ndata: 2\r\n\r\ndata: 3\r\r") == expected)
    }

    @Test("several data lines join with a newline")
    func multiLineData() {
        #expect(parse("data: one\ndata: two\ndata:three\n\n") == [ServerSentEvent(data: "one\ntwo\nthree")])
    }

    @Test("comment lines are ignored and do not dispatch")
    func comments() {
        #expect(parse(": ping\n\n: another\ndata: x\n\n") == [ServerSentEvent(data: "x")])
    }

    @Test("only one leading space is removed from a value")
    func leadingSpace() {
        #expect(parse("data:  two spaces\n\n") == [ServerSentEvent(data: " two spaces")])
    }

    @Test("a field without a colon has an empty value")
    func fieldWithoutColon() {
        #expect(parse("data\n\n") == [ServerSentEvent(data: "")])
    }

    @Test("the id persists to later events and retry is read")
    func idAndRetry() {
        let events = parse("id: 7\nretry: 1500\ndata: a\n\ndata: b\n\n")
        #expect(events == [ServerSentEvent(data: "a", id: "7", retry: 1500), ServerSentEvent(data: "b", id: "7")])
    }

    @Test("a blank line without data dispatches nothing and resets the event type")
    func blankWithoutData() {
        #expect(parse("event: x\n\ndata: y\n\n") == [ServerSentEvent(data: "y")])
    }

    @Test("an event without its closing blank line is not dispatched")
    func unterminated() {
        var parser = SSEParser()
        #expect(parser.feed(Array("data: a\n\ndata: b\n".utf8)) == [ServerSentEvent(data: "a")])
        parser.finish()
        #expect(parser.feed(Array("\n".utf8)).isEmpty)
    }

    @Test("a leading byte-order mark is skipped, even when split")
    func byteOrderMark() {
        var parser = SSEParser()
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("data: x\n\n".utf8)
        #expect(parser.feed(bytes[0..<1]).isEmpty)
        #expect(parser.feed(bytes[1..<2]).isEmpty)
        #expect(parser.feed(bytes[2...]) == [ServerSentEvent(data: "x")])
    }

    @Test("the [DONE] sentinel and error objects arrive as data")
    func sentinelAndError() {
        let events = parse("data: {\"error\":{\"message\":\"boom\"}}\n\ndata: [DONE]\n\n")
        #expect(events.map(\.data) == ["{\"error\":{\"message\":\"boom\"}}", "[DONE]"])
    }

    /// A stream that uses every feature at once: CRLF/CR/LF, comments, multi-byte UTF-8, multi-line data.
    static let mixedStream: String =
        "\u{FEFF}: comment\r\nevent: token\r\nid: m:1\r\ndata: café 日本語 🙂\r\n\r\n"
        + "data: line one\rdata: line two\r\r"
        + ": keep-alive\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"Ünï\"}}]}\n\n"
        + "event: done\ndata: [DONE]\n\n"

    @Test("splitting the stream at every byte boundary gives the same events")
    func splitAtEveryByte() {
        let bytes = Array(Self.mixedStream.utf8)
        var reference = SSEParser()
        let expected = reference.feed(bytes)
        #expect(expected.count == 4)
        #expect(expected[0] == ServerSentEvent(event: "token", data: "café 日本語 🙂", id: "m:1"))
        for split in 0...bytes.count {
            var parser = SSEParser()
            let events = parser.feed(bytes[..<split]) + parser.feed(bytes[split...])
            #expect(events == expected, "split at byte \(split)")
        }
    }

    @Test("feeding one byte at a time, or in random pieces, gives the same events")
    func randomSplits() {
        let bytes = Array(Self.mixedStream.utf8)
        var reference = SSEParser()
        let expected = reference.feed(bytes)
        var oneByOne = SSEParser()
        #expect(bytes.flatMap { oneByOne.feed([$0]) } == expected)
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<500 {
            var parser = SSEParser()
            var events: [ServerSentEvent] = []
            var index = 0
            while index < bytes.count {
                let end = min(bytes.count, index + Int.random(in: 1...9, using: &generator))
                events += parser.feed(bytes[index..<end])
                index = end
            }
            #expect(events == expected)
        }
    }

    @Test("encoding then parsing returns the same event, also for multi-line data")
    func roundTrip() {
        let events = [
            ServerSentEvent(event: "token", data: "{\"token\":\"a\\nb\"}", id: "x:1"),
            ServerSentEvent(event: "status", data: "line1\nline2\n\nline4"),
            ServerSentEvent(data: ""),
        ]
        for event in events {
            var parser = SSEParser()
            #expect(parser.feed(Array(event.encoded.utf8)) == [event])
        }
    }
}
