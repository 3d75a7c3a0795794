import Hummingbird

extension ResponseBodyWriter {
    /// No tokens for `duration`: only `: stalled` comments every quarter second, as hosted upstreams send
    /// keep-alive comments while a model is busy. A client must not take them for progress. Writing them also
    /// ends the stall when the client has gone — as a real server stops generating for a client that left —
    /// instead of keeping the handler, and so the simulator's graceful shutdown, waiting out the whole stall.
    mutating func stall(for duration: Duration) async throws {
        let end = ContinuousClock.now + duration
        while ContinuousClock.now < end {
            try await Task.sleep(until: min(end, .now + .milliseconds(250)), clock: .continuous)
            try await write(ByteBuffer(string: ": stalled\n\n"))
        }
    }
}
