import ArgumentParser
import Foundation
import NIOPosix
import SluiceProcess
import Synchronization

/// `sluice bench load`: N concurrent streamed chat completions straight to the simulator, through Sluice's
/// `/v1/chat/completions` (persistence, accounting and the prompt guard on) and, when it is installed, through
/// a LiteLLM proxy — all in one run on loopback, so the ratios hold on a noisy machine.
struct LoadBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Streams through Sluice's OpenAI-compatible gateway vs straight to the simulator (and LiteLLM, if installed).")

    @Option(help: "Concurrent streams per wave, comma-separated.") var streams = "1,10,100,1000"
    @Option(help: "Tokens per answer (the simulator's).") var tokens = 64
    @Option(help: "Milliseconds between the simulator's tokens.") var delayMs = 20
    @Option(help: "Waves per concurrency level (samples add up).") var rounds = 2
    @Option(help: "Words of earlier conversation sent with every request (user/assistant turns of 100 words): what counting and guarding a long chat costs. 0: one short message.") var historyWords = 0
    @Option(help: "The litellm executable; by default `litellm` on the PATH. Pass 'none' to skip it.") var litellm: String?
    @Option(help: "Also measure a Sluice on this PostgreSQL database (postgres://…; ./sluice.sh bench load starts a throwaway one).") var postgres: String?
    @Option(help: "What each stream calls: chat (/v1/chat/completions) or completions (/v1/completions, OpenAI's text completions, as code editors' autocompletion calls them).") var api: BenchAPI = .chat
    @Flag(help: "Every stream asks the same question, and Sluice (--response-cache-seconds) and LiteLLM (its in-memory cache) answer it from their response caches after the warm-up: what a cache hit costs. The simulator and the relay have no cache.") var cache = false

    func run() async throws {
        let levels = streams.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !levels.isEmpty, levels.allSatisfy({ $0 > 0 }) else { throw ValidationError("--streams takes positive numbers, e.g. 1,10,100") }
        if cache, api == .completions { throw ValidationError("--cache measures chat calls: Sluice's response cache does not keep text completions") }
        let sluice = CommandLine.arguments[0].hasPrefix("/")
            ? CommandLine.arguments[0] : FileManager.default.currentDirectoryPath + "/" + CommandLine.arguments[0]
        var environment = ProcessInfo.processInfo.environment
        environment = environment.filter { !$0.key.hasPrefix("SLUICE_") || $0.key == "SLUICE_TIKTOKEN_DIR" || $0.key == "SLUICE_PRICE_TABLE" }

        let simulatorPort = try await freePort()
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-load-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        // The database and LiteLLM's configuration go with the bench (after the servers stop: defers run last first).
        defer { try? FileManager.default.removeItem(at: work) }
        var servers: [BenchProcess] = []
        defer { for server in servers { server.stop() } }
        // Ctrl-C or SIGTERM must not leave the servers behind: they get SIGTERM, then the bench exits.
        let started = StartedServers()
        let interrupts = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler {
                started.terminateAll()
                try? FileManager.default.removeItem(at: work)
                Foundation.exit(130)
            }
            source.resume()
            return source
        }
        defer { for source in interrupts { source.cancel() } }

        /// Starts `sluice <arguments>`, stopped with the bench, and waits until it answers `health`.
        func launch(
            _ name: String, _ arguments: [String], environment: [String: String]? = nil, health: String, seconds: Double
        ) async throws -> BenchProcess {
            let server = try BenchProcess(name: name, executable: sluice, arguments: arguments, environment: environment)
            servers.append(server)
            started.add(server.pid)
            try await server.waitUntilServing(health, seconds: seconds)
            return server
        }

        _ = try await launch(
            "simulator", ["simulate", "--port", "\(simulatorPort)", "--tokens", "\(tokens)", "--delay-ms", "\(delayMs)"],
            health: "http://127.0.0.1:\(simulatorPort)/health", seconds: 30)

        /// A release `sluice serve` on `db` in front of the simulator, with an unlimited user of its own.
        func startSluice(name: String, db: String) async throws -> Target {
            let port = try await freePort()
            let token = try Self.output(sluice, ["user", "add", "bench-\(port)", "--plan", "unlimited", "--db", db], environment: environment)
                .split(separator: "\n").last.map(String.init) ?? ""
            let server = try await launch(
                name,
                [
                    "serve", "--port", "\(port)", "--db", db, "--upstream", "http://127.0.0.1:\(simulatorPort)/v1",
                    "--model", "sim", "--log-level", "error", "--upstream-concurrency", "4096", "--upstream-queue", "4096",
                ] + (cache ? ["--response-cache-seconds", "3600"] : []),
                environment: environment, health: "http://127.0.0.1:\(port)/healthz", seconds: 60)
            return Target(name: name, port: port, headers: [("Authorization", "Bearer \(token)")], pid: server.pid)
        }
        // The floor: a bare Hummingbird + AsyncHTTPClient pass-through, measured like the others.
        let relayPort = try await freePort()
        let relay = try await launch(
            "relay", ["bench", "relay", "--port", "\(relayPort)", "--upstream", "http://127.0.0.1:\(simulatorPort)/v1"],
            health: "http://127.0.0.1:\(relayPort)/health", seconds: 30)
        let gateway = try await startSluice(name: "sluice", db: work.appendingPathComponent("db.sqlite").path)
        var targets = [
            Target(name: "direct", port: simulatorPort, headers: [], pid: nil),
            Target(name: "relay", port: relayPort, headers: [], pid: relay.pid), gateway,
        ]
        if let postgres {
            // The same server on PostgreSQL: every write and budget hold crosses a loopback connection.
            targets.append(try await startSluice(name: "sluice-pg", db: postgres))
        }
        var litellmVersion: String?
        if let (process, port, version) = try await startLiteLLM(simulatorPort: simulatorPort, work: work, environment: environment) {
            servers.append(process)
            started.add(process.pid)
            litellmVersion = version
            targets.append(Target(name: "litellm", port: port, headers: [("Authorization", "Bearer sk-sluice-bench")], pid: process.pid))
        }

        let group = MultiThreadedEventLoopGroup.singleton
        // One request each first: connection pools, JIT-free but lazy paths, the database file.
        for target in targets { _ = try await wave(target, size: 1, label: "warm-up", group: group) }
        LoadReport.line("sluice bench load (\(api == .chat ? "/v1/chat/completions" : "/v1/completions")): \(tokens) tokens \(delayMs) ms apart per answer, \(rounds) wave(s) per level, one connection per stream"
            + (historyWords > 0 ? ", \(historyWords) words of history per request" : "")
            + (cache ? "; one question for all, answered by Sluice and LiteLLM from their response caches" : ""))
        if let litellmVersion { LoadReport.line("LiteLLM \(litellmVersion) (1 worker) through the same simulator") } else { LoadReport.line("LiteLLM: skipped (--litellm none, or not found: ./sluice.sh bench load installs it, or pass --litellm <path>)") }
        LoadReport.line("sluice idles at \(String(format: "%.0f", gateway.residentMiB())) MiB")
        for size in levels {
            var results: [String: WaveResult] = [:]
            for target in targets {
                var merged = WaveResult()
                for round in 1...rounds {
                    merged.merge(try await wave(target, size: size, label: "\(target.name) \(size) streams, wave \(round)/\(rounds)", group: group))
                }
                results[target.name] = merged
            }
            FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
            LoadReport.print(size: size, targets: targets.map(\.name), results: results)
        }
        // What Sluice keeps once the load is over: it gives a burst's free heap back when no answer streams
        // (`IdleMemoryReturner`, which looks every 5 s).
        try await Task.sleep(for: .seconds(12))
        for target in targets where target.name.hasPrefix("sluice") {
            LoadReport.line("\(target.name) 12 s after the last wave: \(String(format: "%.0f", target.residentMiB())) MiB")
        }
    }

    /// `words` words of earlier conversation as JSON messages, each followed by a comma (`""` for none): turns
    /// of 100 words, alternately the user's and the assistant's, from a small vocabulary in a varying order.
    static func history(words: Int) -> String {
        let vocabulary = ["the", "model", "answer", "question", "token", "budget", "stream", "server", "context", "window",
                          "summary", "request", "upstream", "latency", "memory", "database", "conversation", "message",
                          "gateway", "retry", "fallback", "guard", "cost", "usage", "chart", "Sluice", "because", "which",
                          "after", "before", "every", "number", "value", "example", "python", "function", "returns", "list"]
        var json = ""
        var written = 0
        var turn = 0
        while written < words {
            let count = min(100, words - written)
            let text = (0..<count).map { vocabulary[((written + $0) * 7 + (written + $0) / 13) % vocabulary.count] }
                .joined(separator: " ")
            json += #"{"role":"\#(turn % 2 == 0 ? "user" : "assistant")","content":"\#(text)."},"#
            written += count
            turn += 1
        }
        return json
    }

    struct Target: Sendable {
        let name: String
        let port: Int
        let headers: [(String, String)]
        /// The server measured (none for the simulator itself).
        let pid: Int32?

        func cpuSeconds() -> Double { pid.map(ProcessFigures.cpuSeconds) ?? 0 }
        func residentMiB() -> Double { pid.map(ProcessFigures.residentMiB) ?? 0 }
    }

    /// The pids of the servers started, for the signal handler.
    final class StartedServers: Sendable {
        private let pids = Mutex<[Int32]>([])
        func add(_ pid: Int32) { pids.withLock { $0.append(pid) } }
        func terminateAll() { for pid in pids.withLock({ $0 }) { kill(pid, SIGTERM) } }
    }

    /// Streams finished so far and the server's peak memory, shared by the tasks of one wave.
    final class WaveProgress: Sendable {
        let done = Mutex(0)
        let peakMiB = Mutex(0.0)
    }

    /// `size` streams at once against one target; samples, wall time, and the server's CPU and peak memory.
    private func wave(_ target: Target, size: Int, label: String, group: MultiThreadedEventLoopGroup) async throws -> WaveResult {
        let history = Self.history(words: historyWords)
        let cpuBefore = target.cpuSeconds()
        let started = ContinuousClock.now
        let progress = WaveProgress()
        let samples = await withTaskGroup(of: StreamSample?.self) { tasks in
            // Progress and memory, every 200 ms, until the wave ends.
            tasks.addTask {
                while !Task.isCancelled {
                    let finished = progress.done.withLock { $0 }
                    let width = 30, filled = size == 0 ? 0 : finished * width / size
                    FileHandle.standardError.write(Data("\r\u{1B}[K[\(String(repeating: "#", count: filled))\(String(repeating: ".", count: width - filled))] \(label): \(finished)/\(size)".utf8))
                    let rss = target.residentMiB()
                    progress.peakMiB.withLock { $0 = max($0, rss) }
                    try? await Task.sleep(for: .milliseconds(200))
                }
                return nil
            }
            for index in 0..<size {
                tasks.addTask {
                    // Each question its own, unless the wave measures the response caches.
                    let question = cache ? "Load test message" : "Load test message \(index) \(UUID().uuidString)"
                    let body = api == .chat
                        ? #"{"model":"sim","stream":true,"stream_options":{"include_usage":true},"messages":["# + history
                            + #"{"role":"user","content":"\#(question)"}]}"#
                        : #"{"model":"sim","stream":true,"stream_options":{"include_usage":true},"max_tokens":\#(tokens),"prompt":"\#(question)"}"#
                    let sample = await StreamingLoadClient.stream(
                        host: "127.0.0.1", port: target.port, path: api == .chat ? "/v1/chat/completions" : "/v1/completions", body: body,
                        headers: target.headers, group: group)
                    progress.done.withLock { $0 += 1 }
                    return sample
                }
            }
            var collected: [StreamSample] = []
            while collected.count < size, let next = await tasks.next() {
                if let sample = next { collected.append(sample) }
            }
            tasks.cancelAll()
            return collected
        }
        let elapsed = ContinuousClock.now - started
        let rss = target.residentMiB()
        progress.peakMiB.withLock { $0 = max($0, rss) }
        return WaveResult(
            samples: samples, seconds: elapsed.seconds,
            cpuSeconds: target.cpuSeconds() - cpuBefore, peakMiB: progress.peakMiB.withLock { $0 },
            peakOpen: WaveResult.mostOpen(samples))
    }

    /// Starts `litellm --config` with the simulator as its only model, if LiteLLM is installed.
    private func startLiteLLM(simulatorPort: Int, work: URL, environment: [String: String]) async throws -> (BenchProcess, Int, String)? {
        if litellm == "none" { return nil }
        let path = litellm ?? (environment["PATH"] ?? "").split(separator: ":").map { "\($0)/litellm" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let path, FileManager.default.isExecutableFile(atPath: path) else { return nil }
        let config = work.appendingPathComponent("litellm.yaml")
        try """
            model_list:
              - model_name: sim
                litellm_params:
                  model: \(api == .chat ? "openai" : "text-completion-openai")/sim
                  api_base: http://127.0.0.1:\(simulatorPort)/v1
                  api_key: sk-simulator
            general_settings:
              master_key: sk-sluice-bench
            """.appending(cache ? "\nlitellm_settings:\n  cache: true\n  cache_params:\n    type: local\n" : "")
            .write(to: config, atomically: true, encoding: .utf8)
        var env = environment
        env["LITELLM_LOG"] = "ERROR"
        env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
        let port = try await freePort()
        let process = try BenchProcess(
            name: "litellm", executable: path,
            arguments: ["--config", config.path, "--port", "\(port)", "--host", "127.0.0.1", "--num_workers", "1"], environment: env)
        try await process.waitUntilServing("http://127.0.0.1:\(port)/health/liveliness", seconds: 180)
        // The Python that runs this litellm: the one beside it (a virtualenv's), else the one on the PATH.
        let beside = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("python3").path
        let python = FileManager.default.isExecutableFile(atPath: beside) ? [beside] : ["/usr/bin/env", "python3"]
        let version = (try? Self.output(
            python[0], Array(python.dropFirst()) + ["-c", "import importlib.metadata as m; print(m.version('litellm'))"],
            environment: environment)
        )?.trimmingCharacters(in: .whitespacesAndNewlines)
        return (process, port, version ?? "(version unknown)")
    }

    static func output(_ executable: String, _ arguments: [String], environment: [String: String]) throws -> String {
        let result = try SpawnedProcess.run(executable, arguments, environment: environment)
        guard result.status == 0 else { throw BenchError("\(executable) \(arguments.joined(separator: " ")) failed") }
        return String(decoding: result.output, as: UTF8.self)
    }

    private func freePort() async throws -> Int {
        let socket = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = socket.localAddress?.port ?? 0
        try? await socket.close()
        return port
    }
}

/// The API `sluice bench load` drives.
enum BenchAPI: String, ExpressibleByArgument, Sendable {
    case chat
    case completions
}
