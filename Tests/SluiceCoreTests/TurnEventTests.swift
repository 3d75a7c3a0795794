import Foundation
import Testing
@testable import SluiceCore

@Suite("Turn events on the wire")
struct TurnEventTests {
    @Test("a token event carries message id and sequence as its SSE id and survives JSON escaping")
    func tokenEvent() throws {
        let text = "quote \" backslash \\ newline \n tab \t bell \u{07} emoji 🙂 separator \u{2028}"
        let event = TurnEvent.token(messageID: "m1", seq: 3, text: text).serverSentEvent
        #expect(event.event == "token")
        #expect(event.id == "m1:3")
        let decoded = try JSONDecoder().decode([String: String].self, from: Data(event.data.utf8))
        #expect(decoded["token"] == text)
    }

    @Test("done always names all four usage keys, null when unknown")
    func doneUsageKeys() throws {
        let done = TurnEvent.done(.init(usage: WireUsage(nil), ttftMs: nil, durationMs: 5, finishReason: "stop", model: "m"))
        let object = try JSONSerialization.jsonObject(with: Data(done.serverSentEvent.data.utf8)) as? [String: Any]
        let usage = object?["usage"] as? [String: Any]
        #expect(Set(usage?.keys.map { $0 } ?? []) == ["input_tokens", "output_tokens", "total_tokens", "source"])
        #expect(usage?["input_tokens"] is NSNull)
    }

    @Test("an event is as small as a token: the rare cases are boxed, so a token is not copied at the size of `done`")
    func eventSize() {
        // A token event crosses several queues and async frames on its way to the client; unboxed, `done` made
        // every event 410 bytes.
        let token = MemoryLayout<String>.size * 2 + MemoryLayout<Int>.size
        #expect(MemoryLayout<TurnEvent>.size <= token + 1)
        #expect(MemoryLayout<TurnEvent.Done>.size > token)
        let done = TurnEvent.done(.init(usage: WireUsage(nil), ttftMs: 12, durationMs: 5, finishReason: "stop", model: "m"))
        guard case .done(let boxed) = done else { Issue.record("not done"); return }
        #expect(boxed.ttftMs == 12 && boxed.model == "m")
    }
}
