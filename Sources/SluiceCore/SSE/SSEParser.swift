/// An incremental `text/event-stream` parser following the WHATWG rules: `\n`, `\r\n` and `\r` line ends
/// (also when a `\r\n` pair is split across reads), comment lines, multi-line `data`, `id` and `retry`
/// fields, and a leading BOM. Bytes may arrive split anywhere, also inside a UTF-8 character: lines are
/// decoded only once complete.
public struct SSEParser: Sendable {
    private var line: [UInt8] = []
    private var previousWasCR = false
    private var atStreamStart = true
    private var data = ""
    private var hasData = false
    private var eventType = ""
    private var lastEventID: String?
    private var retry: Int?

    public init() {}

    /// Feeds the next bytes of the stream and returns the events they complete, in order.
    public mutating func feed<Bytes: Collection>(_ bytes: Bytes) -> [ServerSentEvent] where Bytes.Element == UInt8 {
        // One generic call per read, then plain pointer work per byte (a generic walk over a `ByteBufferView` from
        // another module costs a witness call per byte).
        if let events = bytes.withContiguousStorageIfAvailable({ feed(contiguous: $0) }) { return events }
        return Array(bytes).withUnsafeBufferPointer { feed(contiguous: $0) }
    }

    private mutating func feed(contiguous bytes: UnsafeBufferPointer<UInt8>) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        var index = bytes.startIndex
        if atStreamStart, !bytes.isEmpty {
            index = skipByteOrderMark(bytes)
        }
        while index != bytes.endIndex {
            let byte = bytes[index]
            if previousWasCR {
                previousWasCR = false
                if byte == 0x0A {  // the LF of a CRLF whose CR ended the previous read or line
                    index += 1
                    continue
                }
            }
            // Copy the run up to the next line end in one go.
            var end = index
            while end != bytes.endIndex, bytes[end] != 0x0A, bytes[end] != 0x0D { end += 1 }
            line.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[index..<end]))
            if end == bytes.endIndex { break }
            previousWasCR = bytes[end] == 0x0D
            if let event = processLine() { events.append(event) }
            line.removeAll(keepingCapacity: true)
            index = end + 1
        }
        return events
    }

    /// Call at the end of the stream. Per the standard an event without its closing blank line is discarded.
    public mutating func finish() {
        line.removeAll()
        data = ""
        hasData = false
        eventType = ""
    }

    private mutating func skipByteOrderMark(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        // The BOM may itself be split across reads; collect up to three bytes before deciding.
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        var index = bytes.startIndex
        while index != bytes.endIndex, line.count < 3, bom[line.count] == bytes[index] {
            line.append(bytes[index])
            index += 1
        }
        if line.count == 3 {
            line.removeAll()
            atStreamStart = false
        } else if index != bytes.endIndex {
            atStreamStart = false  // not a BOM: the bytes collected so far are ordinary text
        }
        return index
    }

    private mutating func processLine() -> ServerSentEvent? {
        if line.isEmpty { return dispatch() }
        if line[0] == UInt8(ascii: ":") { return nil }  // comment
        let colon = line.firstIndex(of: UInt8(ascii: ":")) ?? line.endIndex
        var valueStart = min(colon + 1, line.endIndex)
        if valueStart < line.endIndex, line[valueStart] == UInt8(ascii: " ") { valueStart += 1 }
        let field = line[..<colon]
        let value = line[valueStart...]
        // The one field of almost every event: its value is decoded once, straight into `data` (one string per
        // event, not a value and then a copy).
        if field.elementsEqual("data".utf8) {
            if hasData {
                data += "\n"
                data += String(decoding: value, as: UTF8.self)
            } else {
                data = String(decoding: value, as: UTF8.self)
            }
            hasData = true
            return nil
        }
        let text = String(decoding: value, as: UTF8.self)
        switch String(decoding: field, as: UTF8.self) {
        case "event":
            eventType = text
        case "id":
            if !text.contains("\0") { lastEventID = text }
        case "retry":
            if !text.isEmpty, text.allSatisfy(\.isASCIIDigit), let milliseconds = Int(text) { retry = milliseconds }
        default:
            break  // unknown fields are ignored
        }
        return nil
    }

    private mutating func dispatch() -> ServerSentEvent? {
        defer {
            data = ""
            hasData = false
            eventType = ""
            retry = nil
        }
        guard hasData else { return nil }
        return ServerSentEvent(
            event: eventType.isEmpty ? nil : eventType, data: data, id: lastEventID, retry: retry)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
