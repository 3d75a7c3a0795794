import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
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
    private let logger: Logger
    private let process = Mutex<Process?>(nil)
    private let port = Mutex<Int?>(nil)

    public init(
        binary: String, modelPath: String, host: String = "127.0.0.1", contextSize: Int = 8192, parallelSlots: Int = 4,
        logPath: String? = nil, logger: Logger = Logger(label: "sluice.llama-server")
    ) {
        self.binary = binary
        self.modelPath = modelPath
        self.host = host
        self.contextSize = contextSize
        self.parallelSlots = parallelSlots
        self.logPath = logPath
        self.logger = logger
    }

    /// The OpenAI-compatible base URL once started.
    public var baseURL: String? { port.withLock { $0 }.map { "http://\(host):\($0)/v1" } }

    /// Starts the child and returns its base URL once `/health` answers 200.
    public func start(timeout: Duration = .seconds(120)) async throws -> String {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw LocalModelError.missing("llama-server binary not found or not executable at \(binary)")
        }
        guard FileManager.default.fileExists(atPath: modelPath) else {
            throw LocalModelError.missing("model file not found at \(modelPath)")
        }
        let chosenPort = try await Self.freePort(host: host)
        let child = Process()
        child.executableURL = URL(fileURLWithPath: binary)
        child.arguments = [
            "-m", modelPath, "--host", host, "--port", String(chosenPort), "-c", String(contextSize),
            "-np", String(parallelSlots),
        ]
        if let logPath {
            FileManager.default.createFile(atPath: logPath, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
            child.standardOutput = handle
            child.standardError = handle
        } else {
            child.standardOutput = FileHandle.nullDevice
            child.standardError = FileHandle.nullDevice
        }
        try child.run()
        let pid = child.processIdentifier
        process.withLock { $0 = child }
        port.withLock { $0 = chosenPort }
        logger.info("started llama-server", metadata: ["pid": "\(pid)", "port": "\(chosenPort)"])

        let healthURL = "http://\(host):\(chosenPort)/health"
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard isRunning else {
                throw LocalModelError.exited("llama-server exited during start-up; see \(logPath ?? "its output")")
            }
            if let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: healthURL), timeout: .seconds(2)),
                response.status == .ok
            {
                return "http://\(host):\(chosenPort)/v1"
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        terminate()
        throw LocalModelError.exited("llama-server did not become healthy within \(timeout)")
    }

    public var isRunning: Bool { process.withLock { $0?.isRunning ?? false } }

    /// The child's process id while it exists.
    public var processIdentifier: Int32? { process.withLock { $0?.processIdentifier } }

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
        guard let child = process.withLock({ $0 }), child.isRunning else { return }
        child.terminate()
        let deadline = Date().addingTimeInterval(2)
        while child.isRunning && Date() < deadline { usleep(20_000) }
        if child.isRunning { kill(child.processIdentifier, SIGKILL) }
        child.waitUntilExit()
        logger.info("stopped llama-server")
    }

    /// A port that is free on `host` right now (bound and released).
    public static func freePort(host: String) async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: 0).get()
        let port = channel.localAddress?.port ?? 0
        try await channel.close()
        return port
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
