/// One event of a `text/event-stream`, as defined by the WHATWG HTML standard (§9.2).
public struct ServerSentEvent: Sendable, Equatable {
    /// The `event:` field; `nil` means the default type `message`.
    public var event: String?
    /// The `data:` lines joined with `\n`.
    public var data: String
    /// The last event ID in force when this event was dispatched (`id:` persists across events).
    public var id: String?
    /// A `retry:` value in milliseconds, when this event carried one.
    public var retry: Int?

    public init(event: String? = nil, data: String, id: String? = nil, retry: Int? = nil) {
        self.event = event
        self.data = data
        self.id = id
        self.retry = retry
    }

    /// The event in wire format, ending with the blank line that dispatches it.
    /// Multi-line data becomes several `data:` lines; CR and CRLF in data are sent as line breaks too.
    public var encoded: String {
        var out = ""
        out.reserveCapacity(data.utf8.count + 32)
        if let event { out += "event: \(event)\n" }
        if let id { out += "id: \(id)\n" }
        if let retry { out += "retry: \(retry)\n" }
        var line = Substring(data)
        while let breakIndex = line.firstIndex(where: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) {
            out += "data: \(line[..<breakIndex])\n"
            line = line[line.index(after: breakIndex)...]
        }
        out += "data: \(line)\n\n"
        return out
    }

    /// A comment line (`: text`), which clients ignore; used as a keep-alive.
    public static func comment(_ text: String) -> String { ": \(text)\n\n" }
}
