import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// What one streamed request looked like from the client: when its first text arrived, the gaps between
/// pieces of text, and whether it ended properly (`data: [DONE]` after a 200).
struct StreamSample: Sendable {
    var ttftNanos: UInt64?
    var gapsNanos: [UInt64] = []
    var chunks = 0
    var failure: String?
    /// The server's own account of its steps (`Server-Timing`: name → ms), when it sends one (Sluice does).
    var serverTiming: [String: Double] = [:]
    /// When the stream was asked for and when it ended (`NIODeadline`'s uptime, ns): how many were open at once.
    var openedAtNanos: UInt64?
    var closedAtNanos: UInt64?

    var succeeded: Bool { failure == nil && ttftNanos != nil }
}

/// A load generator written directly on SwiftNIO: one connection per streamed request, the server-sent events
/// scanned byte by byte without decoding JSON. A client built on AsyncHTTPClient or Python costs as much CPU
/// as the gateway it measures (about a core at 500 streams); this one stays out of the way.
enum StreamingLoadClient {
    /// Sends one request and reads its event stream to the end.
    static func stream(
        host: String, port: Int, path: String, body: String, headers: [(String, String)],
        group: any EventLoopGroup
    ) async -> StreamSample {
        let eventLoop = group.next()
        let promise = eventLoop.makePromise(of: StreamSample.self)
        let start = NIODeadline.now()
        do {
            let channel = try await ClientBootstrap(group: eventLoop)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(SSEStreamHandler(start: start, promise: promise))
                    }
                }
                .connect(host: host, port: port).get()
            var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path)
            head.headers.add(name: "Host", value: "\(host):\(port)")
            head.headers.add(name: "Content-Type", value: "application/json")
            head.headers.add(name: "Content-Length", value: "\(body.utf8.count)")
            head.headers.add(name: "Connection", value: "close")
            for (name, value) in headers { head.headers.add(name: name, value: value) }
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(string: body))), promise: nil)
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            let sample = try await promise.futureResult.get()
            try? await channel.close()
            return sample
        } catch {
            promise.fail(error)
            return StreamSample(failure: "\(error)")
        }
    }
}

/// Reads one response: the status, then the event stream, noting the arrival of each event with text.
private final class SSEStreamHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let start: NIODeadline
    private let promise: EventLoopPromise<StreamSample>
    private var sample = StreamSample()
    private var status = 0
    private var pending: [UInt8] = []
    private var lastTextAt: NIODeadline?
    private var sawDone = false
    private var finished = false

    init(start: NIODeadline, promise: EventLoopPromise<StreamSample>) {
        self.start = start
        self.promise = promise
    }

    /// A stream that has not ended two minutes after it started fails, so the bench always stops by itself.
    func handlerAdded(context: ChannelHandlerContext) {
        let deadline = start + .seconds(120)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.finish(failure: "no end within 120 s (\(handler.sample.chunks) pieces of text, HTTP \(handler.status))")
            context.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
            if let timing = head.headers.first(name: "Server-Timing") { sample.serverTiming = Self.durations(timing) }
        case .body(let buffer):
            pending.append(contentsOf: buffer.readableBytesView)
            scanEvents()
        case .end:
            finish(failure: status != 200 ? "HTTP \(status)" : (sawDone ? nil : "the stream ended without [DONE]"))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(failure: "\(error)")
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(failure: sawDone && status == 200 ? nil : "the connection closed early")
    }

    /// `name;dur=<ms>;desc="…"` fields as name → ms (Sluice's descriptions have no commas).
    static func durations(_ header: String) -> [String: Double] {
        var durations: [String: Double] = [:]
        for field in header.split(separator: ",") {
            let parts = field.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let name = parts.first, let duration = parts.first(where: { $0.hasPrefix("dur=") }) else { continue }
            durations[name] = Double(duration.dropFirst(4))
        }
        return durations
    }

    /// Takes every complete event (ended by a blank line) off the front of `pending`.
    private func scanEvents() {
        var eventStart = 0
        var index = 0
        let bytes = pending
        while index + 1 < bytes.count {
            if bytes[index] == UInt8(ascii: "\n"), bytes[index + 1] == UInt8(ascii: "\n") {
                inspect(bytes[eventStart..<index])
                eventStart = index + 2
                index += 2
            } else {
                index += 1
            }
        }
        if eventStart > 0 { pending.removeFirst(eventStart) }
    }

    private static let contentKey = Array(#""content":""#.utf8)
    /// A text completion's piece (`/v1/completions`).
    private static let textKey = Array(#""text":""#.utf8)
    private static let doneMarker = Array("data: [DONE]".utf8)
    private static let errorKey = Array(#"{"error""#.utf8)

    private func inspect(_ event: ArraySlice<UInt8>) {
        if event.starts(with: Self.doneMarker) {
            sawDone = true
            return
        }
        if Self.find(Self.errorKey, in: event) != nil {
            sample.failure = "an error event in the stream"
            return
        }
        // A piece of text: "content":" (or a text completion's "text":") followed by something other than the closing quote.
        guard let at = Self.find(Self.contentKey, in: event) ?? Self.find(Self.textKey, in: event), at < event.endIndex,
            event[at] != UInt8(ascii: "\"")
        else { return }
        let now = NIODeadline.now()
        if let last = lastTextAt {
            sample.gapsNanos.append(UInt64((now - last).nanoseconds))
        } else {
            sample.ttftNanos = UInt64((now - start).nanoseconds)
        }
        lastTextAt = now
        sample.chunks += 1
    }

    /// The index just after the first occurrence of `needle`.
    private static func find(_ needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
        guard haystack.count >= needle.count, let first = needle.first else { return nil }
        var index = haystack.startIndex
        while index <= haystack.endIndex - needle.count {
            if haystack[index] == first, haystack[index..<(index + needle.count)].elementsEqual(needle) {
                return index + needle.count
            }
            index += 1
        }
        return nil
    }

    private func finish(failure: String?) {
        guard !finished else { return }
        finished = true
        if sample.failure == nil { sample.failure = failure }
        sample.openedAtNanos = start.uptimeNanoseconds
        sample.closedAtNanos = NIODeadline.now().uptimeNanoseconds
        promise.succeed(sample)
    }
}
