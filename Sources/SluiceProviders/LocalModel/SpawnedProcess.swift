import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A child process started with `posix_spawn`, for `LlamaServerProcess`. Foundation's `Process.run()` on Linux
/// can crash the parent: it reads `/proc/self/fd` with a 256-byte copy of each directory entry, which runs past the
/// end of glibc's buffer when an entry sits at a page's end (swift-corelibs-foundation#5472, fixed after this
/// toolchain). It crashed this project's test run once, in the middle of the suite.
///
/// The child gets the parent's environment, `/dev/null` as standard input, its output in `outputPath` (or
/// `/dev/null`), and no other descriptor of the parent's: none of Sluice's sockets stays open in llama-server.
final class SpawnedProcess: Sendable {
    let pid: pid_t
    /// Whether the child has exited and been reaped.
    private let reaped = Mutex(false)

    init(executable: String, arguments: [String], outputPath: String?) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        if let closeFrom = Self.closeFrom { _ = closeFrom(&actions, 3) }
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard result == 0 else {
            throw LocalModelError.exited("could not start \(executable): \(String(cString: strerror(result)))")
        }
        self.pid = pid
    }

    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), which Swift's Glibc module does not
    /// declare; without it the child keeps the descriptors the parent opened without close-on-exec.
    private static let closeFrom: CloseFrom? = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np")
        .map { unsafeBitCast($0, to: CloseFrom.self) }

    /// Whether the child has not exited yet; one that has is reaped here (no zombie is left).
    var isRunning: Bool {
        reaped.withLock { reaped in
            guard !reaped else { return false }
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            reaped = result == pid || (result == -1 && errno == ECHILD)
            return !reaped
        }
    }

    /// Sends `signal` to the child if it is still running.
    func send(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Blocks until the child has exited, and reaps it.
    func waitUntilExit() {
        guard isRunning else { return }
        var status: Int32 = 0
        // ECHILD ends the wait too: a concurrent `isRunning` reaped the child first.
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        reaped.withLock { $0 = true }
    }
}
