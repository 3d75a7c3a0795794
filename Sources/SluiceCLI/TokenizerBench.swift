import ArgumentParser
import Foundation
import SluiceProcess
import SluiceTokenizer

/// `sluice bench tokenizer`: Sluice's tokenizer and tiktoken on the same corpus, in the same run.
///
/// Each side encodes every text of the corpus, repeatedly for at least `--seconds`, and reports
/// throughput (tokens/s, MB/s) and per-text latency percentiles. tiktoken runs in a `python3` child
/// process on the same file, so its figures come from the same machine at the same moment.
struct TokenizerBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer", abstract: "Tokens per second for Sluice's tokenizer and for tiktoken on one corpus.")

    @OptionGroup var vocabulary: VocabularyOptions

    @Option(help: "A JSON-lines file with a \"text\" field per line (./sluice.sh bench tokenizer writes one).")
    var corpus: String

    @Option(help: "Measure each side for at least this many seconds.")
    var seconds: Double = 3

    @Flag(help: "Skip the tiktoken side.")
    var sluiceOnly = false

    func run() throws {
        let tokenizer = try vocabulary.tokenizer()
        let texts = try Self.loadTexts(corpus)
        let bytes = texts.reduce(0) { $0 + $1.utf8.count }
        print("corpus: \(texts.count) texts, \(bytes) bytes; encoding \(tokenizer.encoding.rawValue)")
        let sluice = measure(texts: texts, bytes: bytes) { tokenizer.encode($0).count }
        print(sluice.line(label: "sluice  "))
        print("sluice   rss after: \(Self.residentMegabytes()) MB")
        guard !sluiceOnly else { return }
        let tiktoken = try runTiktoken(encoding: tokenizer.encoding.rawValue)
        print(tiktoken.line(label: "tiktoken"))
        if tiktoken.tokens != sluice.tokens {
            print("WARNING: token totals differ (sluice \(sluice.tokens), tiktoken \(tiktoken.tokens))")
        }
        print(String(format: "ratio sluice/tiktoken throughput: %.2f", sluice.tokensPerSecond / tiktoken.tokensPerSecond))
    }

    private func measure(texts: [String], bytes: Int, encode: (String) -> Int) -> BenchFigures {
        var latencies: [Double] = []
        var tokens = 0
        var passes = 0
        let clock = ContinuousClock()
        let started = clock.now
        repeat {
            tokens = 0
            for text in texts {
                let before = clock.now
                tokens += encode(text)
                latencies.append((clock.now - before).seconds)
            }
            passes += 1
        } while (clock.now - started).seconds < seconds
        let elapsed = (clock.now - started).seconds
        return BenchFigures(tokens: tokens, bytes: bytes, passes: passes, elapsed: elapsed, latencies: latencies)
    }

    /// Runs the same measurement loop in Python with tiktoken and reads its figures back.
    private func runTiktoken(encoding: String) throws -> BenchFigures {
        let script = """
        import json, sys, time
        import tiktoken
        path, name, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
        texts = [json.loads(line)["text"] for line in open(path, encoding="utf-8") if line.strip()]
        enc = tiktoken.get_encoding(name)
        latencies, passes, start = [], 0, time.perf_counter()
        while True:
            tokens = 0
            for text in texts:
                before = time.perf_counter()
                tokens += len(enc.encode_ordinary(text))
                latencies.append(time.perf_counter() - before)
            passes += 1
            if time.perf_counter() - start >= seconds:
                break
        print(json.dumps({"tokens": tokens, "passes": passes, "elapsed": time.perf_counter() - start, "latencies": latencies}))
        """
        var environment = ProcessInfo.processInfo.environment
        if environment["TIKTOKEN_CACHE_DIR"] == nil, let folder = vocabulary.vocabularyDir ?? environment["SLUICE_TIKTOKEN_DIR"] {
            environment["TIKTOKEN_CACHE_DIR"] = folder
        }
        let (status, data) = try SpawnedProcess.run(
            "/usr/bin/env", ["python3", "-c", script, corpus, encoding, String(seconds)], environment: environment,
            showingErrors: true)
        guard status == 0,
              let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let tokens = object["tokens"] as? Int, let passes = object["passes"] as? Int,
              let elapsed = object["elapsed"] as? Double, let latencies = object["latencies"] as? [Double]
        else {
            throw ValidationError("tiktoken did not run: `python3 -m pip install tiktoken`, or pass --sluice-only")
        }
        let bytes = try Self.loadTexts(corpus).reduce(0) { $0 + $1.utf8.count }
        return BenchFigures(tokens: tokens, bytes: bytes, passes: passes, elapsed: elapsed, latencies: latencies)
    }

    static func loadTexts(_ path: String) throws -> [String] {
        struct Line: Decodable { let text: String }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read the corpus \(path)")
        }
        let decoder = JSONDecoder()
        return try data.split(separator: UInt8(ascii: "\n")).map { try decoder.decode(Line.self, from: Data($0)).text }
    }

    static func residentMegabytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kilobytes / 1024
    }
}

/// One side's figures: totals for one pass over the corpus, and per-text latencies over all passes.
struct BenchFigures {
    let tokens: Int
    let bytes: Int
    let passes: Int
    let elapsed: Double
    let latencies: [Double]

    var tokensPerSecond: Double { Double(tokens * passes) / elapsed }

    func line(label: String) -> String {
        let sorted = latencies.sorted()
        func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] * 1_000_000 }
        return String(
            format: "%@ %10.0f tokens/s  %6.2f MB/s  per text p50 %.1f µs  p95 %.1f µs  p99 %.1f µs  (%d passes, %d tokens each)",
            label, tokensPerSecond, Double(bytes * passes) / elapsed / 1_000_000,
            percentile(0.50), percentile(0.95), percentile(0.99), passes, tokens)
    }
}
