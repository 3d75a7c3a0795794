import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A child process started with `posix_spawn`: llama-server, and the servers and scripts the benches start.
/// Foundation's `Process.run()` on Linux can crash the parent: it reads `/proc/self/fd` with a 256-byte copy of
/// each directory entry, which runs past the end of glibc's buffer when an entry sits at a page's end
/// (swift-corelibs-foundation#5472, fixed after this toolchain). It crashed this project's test run once, in
/// the middle of the suite.
///
/// The child gets `/dev/null` as standard input, its output where `Output` says (standard error with it), and no
/// other descriptor of the parent's: none of Sluice's sockets stays open in a child.
public final class SpawnedProcess: Sendable {
    /// Where the child's standard output and standard error go.
    public enum Output: Sendable {
        /// `/dev/null`.
        case discarded
        /// A file, created or truncated.
        case file(String)
    }

    /// `Output`, or (for `run`) standard output to a pipe's write end and standard error to `/dev/null` or the
    /// parent's.
    private enum Destination {
        case output(Output)
        case pipe(Int32, showingErrors: Bool)
    }

    public let pid: pid_t
    /// The child's wait status once it has exited and been reaped, `nil` before.
    private let exit = Mutex<Int32?>(nil)

    /// Starts `executable` (a path: no `PATH` search) with `arguments`. `environment`: the child's whole
    /// environment, or `nil` for the parent's. `ownProcessGroup`: the child leads a process group of its own, so
    /// that what a terminal sends the parent's group (Ctrl-C) reaches only the parent, which stops the child when
    /// it is done with it.
    public convenience init(
        executable: String, arguments: [String], environment: [String: String]? = nil, output: Output = .discarded,
        ownProcessGroup: Bool = false
    ) throws {
        try self.init(
            executable: executable, arguments: arguments, environment: environment, destination: .output(output),
            ownProcessGroup: ownProcessGroup)
    }

    private init(
        executable: String, arguments: [String], environment: [String: String]?, destination: Destination,
        ownProcessGroup: Bool = false
    ) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        switch destination {
        case .output(.discarded):
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        case .output(.file(let path)):
            posix_spawn_file_actions_addopen(&actions, 1, path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        case .pipe(let writeEnd, let showingErrors):
            posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
            if !showingErrors { posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0) }
        }
        if let closeFrom = Self.closeFrom { _ = closeFrom(&actions, 3) }
        let argv = CStrings([executable] + arguments)
        let envp = environment.map { CStrings($0.map { "\($0.key)=\($0.value)" }) }
        // Signals as a new program expects them: none blocked, every one at its default action. Without this the
        // child inherits the spawning thread's mask and the signals the parent ignores — ServiceLifecycle ignores
        // SIGTERM to watch it, so a child would not stop on SIGTERM, only on the SIGKILL after the grace period.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attributes, &all)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if ownProcessGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        var pid: pid_t = 0
        // The copies must outlive the call, not just the reads of their pointers.
        let result = withExtendedLifetime((argv, envp)) {
            if let envp { return posix_spawn(&pid, executable, &actions, &attributes, argv.pointers, envp.pointers) }
            return posix_spawn(&pid, executable, &actions, &attributes, argv.pointers, environ)
        }
        guard result == 0 else { throw SpawnError(executable: executable, reason: String(cString: strerror(result))) }
        self.pid = pid
    }

    /// Runs `executable` to its end and returns its exit status (`nil` when a signal ended it) and what it wrote
    /// to standard output; its standard error goes to the parent's when `showingErrors`, else to `/dev/null`.
    /// Blocks the calling thread: for commands, not for a server's request path.
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, showingErrors: Bool = false
    ) throws -> (status: Int32?, output: Data) {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else {
            throw SpawnError(executable: executable, reason: "no pipe: \(String(cString: strerror(errno)))")
        }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        let readEnd = FileHandle(fileDescriptor: ends[0], closeOnDealloc: true)
        let child: SpawnedProcess
        do {
            child = try SpawnedProcess(executable: executable, arguments: arguments, environment: environment, destination: .pipe(ends[1], showingErrors: showingErrors))
        } catch {
            close(ends[1])
            throw error
        }
        close(ends[1])
        let output = readEnd.readDataToEndOfFile()
        return (child.waitUntilExit(), output)
    }

    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), which Swift's Glibc module does not
    /// declare; without it the child keeps the descriptors the parent opened without close-on-exec.
    private static let closeFrom: CloseFrom? = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np")
        .map { unsafeBitCast($0, to: CloseFrom.self) }

    /// Whether the child has not exited yet; one that has is reaped here (no zombie is left).
    public var isRunning: Bool {
        exit.withLock { exit in
            guard exit == nil else { return false }
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid {
                exit = status
            } else if result == -1 && errno == ECHILD {
                exit = -1  // reaped by someone else: the status is lost
            }
            return exit == nil
        }
    }

    /// Sends `signal` to the child if it is still running.
    public func send(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Blocks until the child has exited, reaps it and returns its exit status (`nil` when a signal ended it).
    @discardableResult
    public func waitUntilExit() -> Int32? {
        if isRunning {
            var status: Int32 = 0
            var result: pid_t
            repeat { result = waitpid(pid, &status, 0) } while result == -1 && errno == EINTR
            // ECHILD ends the wait too: a concurrent `isRunning` reaped the child first and kept its status.
            exit.withLock { exit in if exit == nil { exit = result == pid ? status : -1 } }
        }
        guard let status = exit.withLock({ $0 }), status & 0x7f == 0 else { return nil }
        return (status >> 8) & 0xff
    }

    /// Terminates the child: `SIGTERM`, then `SIGKILL` if it is still running after `grace`; returns once it is reaped.
    public func stop(grace: Duration = .seconds(5)) {
        send(SIGTERM)
        let deadline = ContinuousClock.now + grace
        while isRunning, ContinuousClock.now < deadline { usleep(20_000) }
        send(SIGKILL)
        waitUntilExit()
    }
}

/// A child could not be started (the program is missing or not executable, or the system refused).
public struct SpawnError: Error, CustomStringConvertible {
    public let executable: String
    public let reason: String
    public var description: String { "could not start \(executable): \(reason)" }
}

/// NUL-terminated copies of strings, with the `NULL`-ended pointer array `posix_spawn` takes; freed with it.
private final class CStrings {
    let pointers: [UnsafeMutablePointer<CChar>?]

    init(_ strings: [String]) {
        pointers = strings.map { strdup($0) } + [nil]
    }

    deinit {
        for pointer in pointers { free(pointer) }
    }
}
