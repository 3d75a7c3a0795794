import Foundation
import Logging
import Testing

@testable import SluiceServer

/// The text log handler writes swift-log's usual line, its metadata merged and sorted when the line is written.
struct TextLogHandlerTests {
    @Test func aLineHasTheTimeLevelLabelSortedMetadataSourceAndMessage() {
        var handler = TextLogHandler(label: "sluice")
        handler[metadataKey: "b"] = "2"
        handler[metadataKey: "a"] = "1"
        handler[metadataKey: "a"] = "one"
        let event = LogEvent(
            level: .warning, message: "upstream slow", metadata: ["c": "3", "b": "two"], source: "SluiceServer",
            file: #fileID, function: #function, line: #line)
        #expect(handler.line(event, at: "T") == "T warning sluice : a=one b=two c=3 [SluiceServer] upstream slow\n")
        #expect(TextLogHandler.timestamp().wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000/) != nil)
    }
}
