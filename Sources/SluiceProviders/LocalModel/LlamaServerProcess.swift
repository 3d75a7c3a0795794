import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import SluiceProcess
import Synchronization

/// Supervises a `llama-server` child process serving a local GGUF model: starts it on a free loopback port,
/// waits until it answers `/health`, and stops it when the service group shuts down. If the child dies on
/// its own, `run()` throws so that Sluice stops too rather than serving a dead upstream.
public final class LlamaServerProcess: Service {
    public let binary: String
    public let modelPath: String
    public let host: String
    public let contextSize: Int
    public let parallelSlots: Int
    public let logPath: String?
    /// Names the running child and this process (`ChildRecord`), so that a start after a crash stops the orphan.
    private let record: ChildRecord?
    private let logger: Logger
    private let process = Mutex<SpawnedProcess?>(nil)
    private let port = Mutex<Int?>(nil)
    /// Finds a port for the child (`freePort`; tests hand out a taken one).
    private let choosePort: @Sendable (_ host: String) async throws -> Int

    public init(
        binary: String, modelPath: String, host: String = "127.0.0.1", contextSize: Int = 8192, parallelSlots: Int = 4,
        logPath: String? = nil, recordPath: String? = nil, logger: Logger = Logger(label: "sluice.llama-server"),
        choosePort: @escaping @Sendable (_ host: String) async throws -> Int = { try await LlamaServerProcess.freePort(host: $0) }
    ) {
        self.choosePort = choosePort
        self.binary = binary
        self.modelPath = modelPath
        self.host = host
        self.contextSize = contextSize
        self.parallelSlots = parallelSlots
        self.logPath = logPath
        self.record = recordPath.map(ChildRecord.init)
        self.logger = logger
    }

    /// The OpenAI-compatible base URL once started.
    public var baseURL: String? { port.withLock { $0 }.map { "http://\(host):\($0)/v1" } }

    /// Starts the child and returns its base URL once it answers `/health` with 200 on its port.
    ///
    /// A port found free may be taken by another process before the child binds it (it happened in the test suite,
    /// where many servers start at once): the child then exits, and whatever holds the port may answer `/health`
    /// in its place. So a start counts only once the child itself listens on the port, and a port lost that way
    /// is replaced by another, up to three times.
    public func start(timeout: Duration = .seconds(120)) async throws -> String {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw LocalModelError.missing("llama-server binary not found or not executable at \(binary)")
        }
        guard FileManager.default.fileExists(atPath: modelPath) else {
            throw LocalModelError.missing("model file not found at \(modelPath)")
        }
        record?.stopLeftover(binary: binary, logger: logger)
        let deadline = ContinuousClock.now + timeout
        for attempt in 1...3 {
            let chosenPort = try await choosePort(host)
            if let url = try await launch(port: chosenPort, until: deadline, timeout: timeout) { return url }
            logger.warning("another process took llama-server's port; trying another", metadata: [
                "port": "\(chosenPort)", "attempt": "\(attempt)",
            ])
        }
        throw LocalModelError.exited("llama-server found its port taken by another process three times")
    }

    /// Runs the child on `chosenPort` until it is healthy (its URL) or `nil` when another process holds the port.
    private func launch(port chosenPort: Int, until deadline: ContinuousClock.Instant, timeout: Duration) async throws -> String? {
        let child = try SpawnedProcess(
            executable: binary,
            arguments: [
                "-m", modelPath, "--host", host, "--port", String(chosenPort), "-c", String(contextSize),
                "-np", String(parallelSlots),
            ],
            output: logPath.map { .file($0) } ?? .discarded,
            // Ctrl-C in Sluice's terminal stops Sluice, which lets the local model's running answers finish (its
            // shutdown grace) before it stops the child; a child in the terminal's group would die at once.
            ownProcessGroup: true)
        let pid = child.pid
        record?.write(child: pid)
        process.withLock { $0 = child }
        port.withLock { $0 = chosenPort }
        logger.info("started llama-server", metadata: ["pid": "\(pid)", "port": "\(chosenPort)"])

        let healthURL = "http://\(host):\(chosenPort)/health"
        while ContinuousClock.now < deadline {
            guard isRunning else {
                if await !Self.isFree(host: host, port: chosenPort) { return nil }
                throw LocalModelError.exited("llama-server exited during start-up; see \(logPath ?? "its output")")
            }
            if let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: healthURL), timeout: .seconds(2)),
                response.status == .ok
            {
                if ListeningSockets.holds(pid: pid, port: chosenPort) { return "http://\(host):\(chosenPort)/v1" }
                // Someone else answered on the child's port: the child cannot bind it and is about to exit.
                terminate()
                return nil
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        terminate()
        throw LocalModelError.exited("llama-server did not become healthy within \(timeout)")
    }

    public var isRunning: Bool { process.withLock { $0?.isRunning ?? false } }

    /// The child's process id while it exists.
    public var processIdentifier: Int32? { process.withLock { $0?.pid } }

    /// Waits for shutdown (then stops the child) or for the child to die (then throws).
    public func run() async throws {
        let died = await withGracefulShutdownHandler {
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                if !isRunning { return true }
                try? await Task.sleep(for: .milliseconds(500))
            }
            return false
        } onGracefulShutdown: {}
        terminate()
        if died { throw LocalModelError.exited("llama-server stopped unexpectedly") }
    }

    /// Sends SIGTERM, then SIGKILL if the child has not exited within two seconds.
    public func terminate() {
        // The record goes too when the child has already ended (a signal to the whole process group, a crash).
        defer { record?.remove() }
        guard let child = process.withLock({ $0 }), child.isRunning else { return }
        child.stop(grace: .seconds(2))
        logger.info("stopped llama-server")
    }

    /// Whether `port` on `host` can be bound right now (no other process listens on it).
    static func isFree(host: String, port: Int) async -> Bool {
        (try? await bindAndRelease(host: host, port: port)) != nil
    }

    /// A port that is free on `host` right now (bound and released).
    public static func freePort(host: String) async throws -> Int {
        try await bindAndRelease(host: host, port: 0)
    }

    /// Binds `port` on `host` (0: any), closes it again and returns the port it had.
    private static func bindAndRelease(host: String, port: Int) async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port).get()
        let bound = channel.localAddress?.port ?? 0
        try await channel.close()
        return bound
    }
}

/// Why the local model could not be used.
public enum LocalModelError: Error, CustomStringConvertible {
    case missing(String)
    case exited(String)

    public var description: String {
        switch self {
        case .missing(let text), .exited(let text): text
        }
    }
}
