import Foundation

/// The samples of one or more waves against one target, and what the server spent on them.
struct WaveResult {
    var samples: [StreamSample] = []
    var seconds = 0.0
    var cpuSeconds = 0.0
    var peakMiB = 0.0
    /// The most streams of one wave open at once (asked for and not yet ended), as the client saw them: a wave's
    /// streams overlap less when the first end before the last begin, and the server's peak memory follows that.
    var peakOpen = 0

    mutating func merge(_ other: WaveResult) {
        samples += other.samples
        seconds += other.seconds
        cpuSeconds += other.cpuSeconds
        peakMiB = max(peakMiB, other.peakMiB)
        peakOpen = max(peakOpen, other.peakOpen)
    }

    /// The most of `samples` open at once: a sweep over their openings (+1) and ends (−1), an end before an opening
    /// at the same moment.
    static func mostOpen(_ samples: [StreamSample]) -> Int {
        let moments = samples.flatMap { sample -> [(UInt64, Int)] in
            guard let opened = sample.openedAtNanos, let closed = sample.closedAtNanos else { return [] }
            return [(opened, 1), (closed, -1)]
        }.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
        var open = 0, most = 0
        for (_, change) in moments {
            open += change
            most = max(most, open)
        }
        return most
    }

    var succeeded: [StreamSample] { samples.filter(\.succeeded) }
    var failures: Int { samples.count - succeeded.count }
    var chunks: Int { samples.reduce(0) { $0 + $1.chunks } }
    /// Time to first token of every stream that succeeded, sorted, in ms.
    var ttfts: [Double] { succeeded.compactMap(\.ttftNanos).map { Double($0) / 1e6 }.sorted() }
    /// Every gap between two pieces of text, sorted, in ms.
    var gaps: [Double] { succeeded.flatMap(\.gapsNanos).map { Double($0) / 1e6 }.sorted() }

    /// The server's own time before the upstream call and its steps (`Server-Timing`), p50 / p99 over the streams
    /// that reported them: how much of the added TTFT is the gateway's work rather than the way to it and back.
    var serverTimingLine: String? {
        let names = ["overhead", "request", "guard", "hold", "start"]
        let reported = succeeded.filter { $0.serverTiming["overhead"] != nil }
        guard !reported.isEmpty else { return nil }
        return names.map { name in
            let sorted = reported.compactMap { $0.serverTiming[name] }.sorted()
            let p50 = LoadReport.percentile(sorted, 50) ?? 0, p99 = LoadReport.percentile(sorted, 99) ?? 0
            return String(format: "%@ %.2f / %.2f ms", name, p50, p99)
        }.joined(separator: ", ")
    }

    /// What the client's TTFT holds beyond Sluice's own account (`overhead` + `upstream`), p50 / p99: the request's
    /// way in before its head is read, and the first token's way from the upstream's socket to the client's.
    var outsideServerTimingLine: String? {
        let outside = succeeded.compactMap { sample -> Double? in
            guard let ttft = sample.ttftNanos, let overhead = sample.serverTiming["overhead"],
                let upstream = sample.serverTiming["upstream"]
            else { return nil }
            return Double(ttft) / 1e6 - overhead - upstream
        }.sorted()
        let upstream = succeeded.compactMap { $0.serverTiming["upstream"] }.sorted()
        guard let p50 = LoadReport.percentile(outside, 50), let p99 = LoadReport.percentile(outside, 99),
            let upstreamP50 = LoadReport.percentile(upstream, 50), let upstreamP99 = LoadReport.percentile(upstream, 99)
        else { return nil }
        return String(
            format: "upstream %.2f / %.2f ms; the client's TTFT outside both (its connection and request before the head is read, the first token's way out) %.2f / %.2f ms",
            upstreamP50, upstreamP99, p50, p99)
    }
}

/// Prints one concurrency level as a table: exact percentiles of sorted samples, no averages of latencies.
enum LoadReport {
    /// Writes a line to stdout unbuffered, so what was measured is there even when a run is cut short.
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func percentile(_ sorted: [Double], _ p: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p / 100).rounded()))]
    }

    static func print(size: Int, targets: [String], results: [String: WaveResult]) {
        line("\n\(size) concurrent stream\(size == 1 ? "" : "s")")
        let header = ["target", "ok/failed", "TTFT p50", "p95", "p99", "ITL p50", "p99", "added TTFT p50", "p99", "streams/s", "CPU/stream", "CPU/chunk", "RSS peak"]
        var rows: [[String]] = [header]
        let direct = results["direct"]
        for name in targets {
            guard let result = results[name] else { continue }
            let ttfts = result.ttfts, gaps = result.gaps
            func ms(_ value: Double?) -> String { value.map { String(format: "%.1f ms", $0) } ?? "-" }
            var added50 = "-", added99 = "-"
            if name != "direct", let direct, let p50 = percentile(ttfts, 50), let d50 = percentile(direct.ttfts, 50),
                let p99 = percentile(ttfts, 99), let d99 = percentile(direct.ttfts, 99)
            {
                added50 = String(format: "%+.1f ms", p50 - d50)
                added99 = String(format: "%+.1f ms", p99 - d99)
            }
            let server = name != "direct"
            rows.append([
                name, "\(result.succeeded.count)/\(result.failures)",
                ms(percentile(ttfts, 50)), ms(percentile(ttfts, 95)), ms(percentile(ttfts, 99)),
                ms(percentile(gaps, 50)), ms(percentile(gaps, 99)), added50, added99,
                String(format: "%.1f", Double(result.succeeded.count) / max(result.seconds, 1e-9)),
                server ? String(format: "%.0f µs", result.cpuSeconds * 1e6 / Double(max(1, result.samples.count))) : "-",
                server ? String(format: "%.0f µs", result.cpuSeconds * 1e6 / Double(max(1, result.chunks))) : "-",
                server ? String(format: "%.0f MiB", result.peakMiB) : "-",
            ])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        for (index, row) in rows.enumerated() {
            line(row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: "  "))
            if index == 0 { line(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
        }
        // The ratios the goals are stated in, from this one run: Sluice against the bare relay and against LiteLLM.
        func cpuPerChunk(_ name: String) -> Double? {
            guard let result = results[name], result.chunks > 0, result.cpuSeconds > 0 else { return nil }
            return result.cpuSeconds / Double(result.chunks)
        }
        for sluice in targets where sluice.hasPrefix("sluice") {
            guard let own = cpuPerChunk(sluice) else { continue }
            var ratios: [String] = []
            if let relay = cpuPerChunk("relay") { ratios.append(String(format: "%.1f× the relay's", own / relay)) }
            if let litellm = cpuPerChunk("litellm") { ratios.append(String(format: "LiteLLM's is %.1f× this", litellm / own)) }
            if !ratios.isEmpty { line("  \(sluice) CPU per chunk: " + ratios.joined(separator: "; ")) }
        }
        for sluice in targets where sluice.hasPrefix("sluice") {
            guard let steps = results[sluice]?.serverTimingLine else { continue }
            line("  \(sluice) before the upstream call, by its Server-Timing (p50 / p99): " + steps)
            if let rest = results[sluice]?.outsideServerTimingLine { line("  \(sluice) from the upstream call (p50 / p99): " + rest) }
        }
        if size > 1 {
            let open = targets.compactMap { name in results[name].map { "\(name) \($0.peakOpen)" } }
            line("  streams open at once (the most in a wave): " + open.joined(separator: ", "))
        }
        for name in targets {
            if let failure = results[name]?.samples.first(where: { !$0.succeeded })?.failure {
                line("  \(name): first failure: \(failure)")
            }
        }
    }
}
