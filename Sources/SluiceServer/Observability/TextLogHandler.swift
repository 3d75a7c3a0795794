import Foundation
import Logging
import Synchronization

/// swift-log's default text format (`2026-12-01T10:00:00+0000 info sluice : key=value [module] message`) on
/// standard error, with the metadata formatted when a line is written. The default `StreamLogHandler` formats
/// all of a logger's metadata again every time a field is set — Hummingbird, AsyncHTTPClient and each turn set
/// fields on every request, at every log level — which cost 1.5 % of a turn's CPU while nothing was logged.
public struct TextLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private static let output = Mutex(FileHandle.standardError)

    public init(label: String) {
        self.label = label
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let line = line(event, at: Self.timestamp())
        Self.output.withLock { $0.write(Data(line.utf8)) }
    }

    /// One log line: the handler's metadata and the event's (which wins), sorted by key.
    func line(_ event: LogEvent, at timestamp: String) -> String {
        let fields = metadata.merging(event.metadata ?? [:]) { _, new in new }
        let pretty = fields.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
        return "\(timestamp) \(event.level) \(label) :\(pretty) [\(event.source)] \(event.message)\n"
    }

    static func timestamp() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        var buffer = [Int8](repeating: 0, count: 32)
        let length = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
